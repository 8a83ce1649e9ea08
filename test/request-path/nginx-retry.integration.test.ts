import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/local-broker/index.ts';
import { writeObjectiveHeader } from '../../src/resolver/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import {
  acmeObjective,
  type CheckedHost,
  firstAllowed,
  startCheckedHost,
} from '../helpers/checked-host.ts';
import { type NginxProcess, startNginx } from '../helpers/nginx.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// examples/nginx/front.conf in front of two hosts, each Debian's nginx with
// examples/nginx/filament.conf (elsewhere answered 503, as front.conf says), a real sidecar and a
// stand-in: h1 has only llama-8b loaded, h2 has llama-8b and qwen-7b.

const FRONT = join(import.meta.dir, '..', '..', 'examples', 'nginx', 'front.conf');
const QWEN = acmeObjective({
  model: 'qwen-7b',
  modelVersion: '2026-09-15',
  routingKey: 'acme.qwen-7b',
  cell: 'B',
});

let broker: Awaited<ReturnType<typeof brokerWithRules>>;
let dir: Awaited<ReturnType<typeof tempDir>>;
const hosts: CheckedHost[] = [];
let front: NginxProcess;

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-front-');
  const elsewhere503 = (example: string) => {
    if (!example.includes("return 421 '")) throw new Error('the example has no 421 return');
    return example.replace("return 421 '", "return 503 '");
  };
  for (const [name, served] of [
    ['h1', ['llama-8b']],
    ['h2', ['llama-8b', 'qwen-7b']],
  ] as const)
    hosts.push(
      await startCheckedHost({
        dir: dir.path,
        name,
        brokerUrl: broker.url,
        served,
        edit: elsewhere503,
      }),
    );
  for (const host of hosts) await firstAllowed(host, acmeObjective());
  const [h1, h2] = hosts as [CheckedHost, CheckedHost];
  const port = await freePort();
  // h2 as backup: every request tries h1 first, so a retry is certain to be seen.
  const conf = (await readFile(FRONT, 'utf8'))
    .replace('server 10.0.0.17:8080 max_fails=0;', `server 127.0.0.1:${h1.nginx.port} max_fails=0;`)
    .replace(
      'server 10.0.0.18:8080 max_fails=0;',
      `server 127.0.0.1:${h2.nginx.port} max_fails=0 backup;`,
    )
    .replace('listen 80;', `listen 127.0.0.1:${port};`);
  front = await startNginx(join(dir.path, 'front'), port, conf);
});
afterAll(async () => {
  await front?.stop();
  for (const host of hosts) await host.stop();
  await broker?.stop();
  await dir?.remove();
});

async function send(config: ReturnType<typeof acmeObjective>, body: string) {
  const response = await fetch(`http://127.0.0.1:${front.port}/v1/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'filament-objective': writeObjectiveHeader(config),
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

describe('a front nginx retries an "elsewhere" refusal on the next host', () => {
  test('qwen-7b, loaded only on h2: every request refused by h1 is served by h2; llama-8b stays on h1', async () => {
    const [h1, h2] = hosts as [CheckedHost, CheckedHost];
    const before = [h1.server.generations.length, h2.server.generations.length];
    for (let i = 0; i < 10; i++) {
      const reply = await send(QWEN, `{"prompt":"q${i}"}`);
      expect(reply.status).toBe(200);
    }
    expect(h1.server.generations.length - (before[0] as number)).toBe(0);
    // h1 was asked first each time and answered 503 "elsewhere" (its nginx's own access log).
    const h1Log = await readFile(join(dir.path, 'h1', 'nginx', 'logs', 'access.log'), 'utf8');
    expect(
      h1Log.split('\n').filter((l) => l.includes('"POST /v1/completions') && l.includes('" 503 '))
        .length,
    ).toBeGreaterThanOrEqual(10);
    expect(h2.server.generations.slice(before[1])).toEqual(
      Array.from({ length: 10 }, (_, i) => `{"prompt":"q${i}"}`),
    );
    const llama = await send(acmeObjective(), '{"prompt":"l"}');
    expect(llama.status).toBe(200);
    expect(h1.server.generations.at(-1)).toBe('{"prompt":"l"}');
  });

  test('a request no host can serve ends with the last refusal and its reason, having reached no model server', async () => {
    const [h1, h2] = hosts as [CheckedHost, CheckedHost];
    const before = [h1.server.generations.length, h2.server.generations.length];
    const nowhere = await send(acmeObjective({ ruleVersion: 9 }), '{"prompt":"nowhere"}');
    expect(nowhere.status).toBe(503);
    expect(JSON.parse(nowhere.text)).toMatchObject({ verdict: 'elsewhere', code: 'HOST_BEHIND' });
    expect([h1.server.generations.length, h2.server.generations.length]).toEqual(before);
    // A request that is itself wrong is not retried: h1's refusal is the answer.
    const wrong = await send(acmeObjective({ objective: 'nope' }), '{}');
    expect(wrong.status).toBe(409);
    expect(JSON.parse(wrong.text)).toMatchObject({ verdict: 'refused', code: 'UNKNOWN_OBJECTIVE' });
  });
});
