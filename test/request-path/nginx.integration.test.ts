import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { freePort } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { REFUSED_ENOUGH, Resolver, writeObjectiveHeader } from '../../src/resolver/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import {
  acmeObjective,
  type CheckedHost,
  firstAllowed,
  startCheckedHost,
} from '../helpers/checked-host.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { metricsUrl } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

// Debian's nginx with the shipped examples/nginx/filament.conf (auth_request) in front of a
// model-server stand-in, a real `filament run` next to it following a real mosquitto.

let broker: Awaited<ReturnType<typeof brokerWithRules>>;
let dir: Awaited<ReturnType<typeof tempDir>>;
let host: CheckedHost;
let server: CheckedHost['server'];
let sidecar: CheckedHost['sidecar'];
let openPort: number;

/** The example's server {} block alone (the upstreams are defined once). */
function serverBlock(conf: string): string {
  return conf.slice(conf.search(/^server \{/m));
}

/** A completion request through nginx (the fail-open server with `port`). */
async function send(
  headers: Record<string, string>,
  body = '{"prompt":"hé \\"x\\", y"}',
  port = host.nginx.port,
) {
  const response = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-nginx-');
  openPort = await freePort();
  host = await startCheckedHost({
    dir: dir.path,
    name: 'h1',
    brokerUrl: broker.url,
    served: ['llama-8b'],
    // Beside the example as shipped (fail closed), its FAIL OPEN variant as its comment says.
    extraNginx: (example) => {
      const open = serverBlock(example)
        .replace('listen 8080;', `listen 127.0.0.1:${openPort};`)
        .replace(
          `return 503 '{"verdict":"unavailable","message":"the filament check did not answer"}\\n';`,
          'proxy_pass http://model_server;',
        );
      if (!open.includes('proxy_pass http://model_server;\n    }\n}'))
        throw new Error('the example no longer has the fail-closed return its comment names');
      return open;
    },
  });
  ({ server, sidecar } = host);
  await firstAllowed(host, acmeObjective());
});
afterAll(async () => {
  await host?.stop();
  await broker?.stop();
  await dir?.remove();
});

describe("Debian's nginx with auth_request to filament", () => {
  test('a matching request reaches the model server with its body byte for byte', async () => {
    const before = server.generations.length;
    const body = '{"prompt":"caf\u00e9, \\"quoted\\", \u{1F600}","max_tokens":1}';
    const reply = await send({ 'filament-objective': writeObjectiveHeader(acmeObjective()) }, body);
    expect(reply.status).toBe(200);
    expect(server.generations.length).toBe(before + 1);
    expect(server.generations.at(-1)).toBe(body);
  });

  test('each kind of mismatch never reaches the model server; the client gets the status and reason', async () => {
    const before = server.generations.length;
    const cases: Array<[string, Record<string, string>, number, string, string]> = [
      [
        'unknown objective',
        { 'filament-objective': writeObjectiveHeader(acmeObjective({ objective: 'nope' })) },
        409,
        'refused',
        'UNKNOWN_OBJECTIVE',
      ],
      [
        'a model the server does not have',
        {
          'filament-objective': writeObjectiveHeader(
            acmeObjective({
              model: 'qwen-7b',
              modelVersion: '2026-09-15',
              routingKey: 'acme.qwen-7b',
              cell: 'B',
            }),
          ),
        },
        421,
        'elsewhere',
        'MODEL_NOT_LOADED',
      ],
      [
        'a rule version never seen',
        { 'filament-objective': writeObjectiveHeader(acmeObjective({ ruleVersion: 9 })) },
        421,
        'elsewhere',
        'HOST_BEHIND',
      ],
      ['no carrier', {}, 400, 'malformed', 'CARRIER_MISSING'],
      [
        'a broken carrier',
        { 'filament-objective': 'v1.%%%' },
        400,
        'malformed',
        'CARRIER_MALFORMED',
      ],
    ];
    for (const [what, headers, status, verdict, reason] of cases) {
      const reply = await send(headers);
      expect({
        what,
        status: reply.status,
        verdict: reply.headers.get('filament-verdict'),
        reason: reply.headers.get('filament-reason'),
      }).toEqual({ what, status, verdict, reason });
      const body = JSON.parse(reply.text);
      expect({ what, code: body.code, verdict: body.verdict }).toEqual({
        what,
        code: reason,
        verdict,
      });
      expect(String(body.message).length).toBeGreaterThan(10);
    }
    expect(server.generations.length).toBe(before);
    // Counted by verdict, reason and tenant, with bounded labels.
    const metrics = await (await fetch(await metricsUrl(sidecar))).text();
    expect(metrics).toMatch(
      /^filament_check_answers_total\{verdict="refused",reason="UNKNOWN_OBJECTIVE",tenant="acme"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^filament_check_answers_total\{verdict="malformed",reason="CARRIER_MISSING",tenant="none"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^filament_check_answers_total\{verdict="allow",reason="",tenant="acme"\} [1-9]/m,
    );
    // And by filament status, with the reasons.
    const status = await cli('status', '--socket', join(host.dir, 'api.sock'));
    expect(status.out).toMatch(
      /^checks {2}\d+ request\(s\) checked since start: \d+ allow, \d+ elsewhere, \d+ refused, \d+ malformed; reasons [A-Z_]+ \d+/m,
    );
  });

  test('a rule change takes effect on the next request', async () => {
    const v2 = acmeObjective({ ruleVersion: 2, objective: 'chat2' });
    const before = await send({ 'filament-objective': writeObjectiveHeader(v2) });
    expect([before.status, before.headers.get('filament-reason')]).toEqual([421, 'HOST_BEHIND']);
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(
        ruleSet('acme', 2, { objectives: [{ id: 'chat2', defaultModel: 'llama-8b' }] }),
      ),
    });
    await sidecar.waitForLog((l) => l.msg === 'applied rule set' && l.version === 2, 'v2');
    const after = await send({ 'filament-objective': writeObjectiveHeader(v2) });
    expect(after.status).toBe(200);
    expect(after.headers.get('filament-verdict')).toBeNull(); // nginx passes the model server's answer
    const gone = await send({
      'filament-objective': writeObjectiveHeader(acmeObjective({ ruleVersion: 2 })),
    });
    expect([gone.status, gone.headers.get('filament-reason')]).toEqual([409, 'UNKNOWN_OBJECTIVE']);
  });

  test('a key the host keeps refusing "elsewhere": resolvers stop sending it there', async () => {
    const resolver = new Resolver({ urls: [broker.url] });
    resolver.start();
    try {
      const want = { tenant: 'acme', routingKey: 'acme.llama-8b' };
      await waitFor(
        () => resolver.serving('gpu-east', want).includes('h1') || undefined,
        'the resolver to see h1 serve acme.llama-8b',
      );
      // Requests resolved from a rule version this host has not seen: HOST_BEHIND, each time.
      for (let i = 0; i < REFUSED_ENOUGH + 1; i++) {
        const reply = await send({
          'filament-objective': writeObjectiveHeader(acmeObjective({ ruleVersion: 9 })),
        });
        expect(reply.headers.get('filament-reason')).toBe('HOST_BEHIND');
      }
      // Its next report says so (heartbeat 5 s): the resolver no longer sends that key there.
      await waitFor(
        () => (resolver.serving('gpu-east', want).includes('h1') ? undefined : true),
        'the resolver to stop sending acme.llama-8b to h1',
        15_000,
      );
      const report = resolver.replicas().find((r) => r.report.replica === 'h1')?.report;
      const refused = report?.refusals?.find((r) => r.routingKey === 'acme.llama-8b');
      expect(refused?.tenant).toBe('acme');
      expect(refused?.count).toBeGreaterThanOrEqual(REFUSED_ENOUGH + 1);
    } finally {
      await resolver.stop();
    }
  }, 30_000);

  test('filament stopped: the shipped example fails closed (503), its fail-open variant passes the request on', async () => {
    await sidecar.kill('SIGTERM');
    const before = server.generations.length;
    const closed = await send({ 'filament-objective': writeObjectiveHeader(acmeObjective()) });
    expect(closed.status).toBe(503);
    expect(JSON.parse(closed.text)).toEqual({
      verdict: 'unavailable',
      message: 'the filament check did not answer',
    });
    expect(server.generations.length).toBe(before);
    const open = await send({}, '{"prompt":"unchecked"}', openPort);
    expect(open.status).toBe(200);
    expect(server.generations.at(-1)).toBe('{"prompt":"unchecked"}');
  });
});
