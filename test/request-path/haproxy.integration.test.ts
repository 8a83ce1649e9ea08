import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../src/local-broker/index.ts';
import { objectiveBodyMember, writeObjectiveHeader } from '../../src/resolver/index.ts';
import {
  acmeObjective,
  type SidecarHost,
  startPayloadCheckingHost,
} from '../helpers/checked-host.ts';
import { waitFor } from '../helpers/wait.ts';

// Debian's HAProxy 2.6 with the shipped examples/haproxy/haproxy.cfg and filament-check.lua
// (core.httpclient to the check socket, body included) in front of a stand-in, a real sidecar
// (payload validation on) following a real mosquitto.

const EXAMPLES = join(import.meta.dir, '..', '..', 'examples', 'haproxy');

let host: SidecarHost;
let haproxy: ChildProcess;
let port: number;
let openPort: number;

async function startHaproxy(): Promise<void> {
  const lua = join(host.dir, 'filament-check.lua');
  await writeFile(lua, await readFile(join(EXAMPLES, 'filament-check.lua'), 'utf8'));
  const shipped = await readFile(join(EXAMPLES, 'haproxy.cfg'), 'utf8');
  const cfg = shipped
    .replace('lua-load /etc/haproxy/filament-check.lua', `lua-load ${lua}`)
    .replace('unix@/run/filament/filament-check.sock', `unix@${host.checkSocket}`)
    .replace('bind :8080', `bind 127.0.0.1:${port}`)
    .replace(
      'server local 127.0.0.1:8000',
      `server local ${host.server.base.replace('http://', '')}`,
    );
  // The same frontend, failing open.
  const front = cfg.slice(
    cfg.indexOf('frontend models'),
    cfg.indexOf('\nbackend model_server') + 1,
  );
  const open = front
    .replace('frontend models', 'frontend models_open')
    .replace(`bind 127.0.0.1:${port}`, `bind 127.0.0.1:${openPort}`)
    .replace(' closed\n', ' open\n');
  const file = join(host.dir, 'haproxy.cfg');
  await writeFile(file, `${cfg}\n${open}`);
  haproxy = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  haproxy.stderr?.on('data', (c) => {
    stderr += c;
  });
  await waitForPort(port, 10_000).catch(async (error) => {
    throw new Error(`haproxy did not start: ${stderr}\n${await readFile(file, 'utf8')}`, {
      cause: error,
    });
  });
}

async function send(
  headers: Record<string, string>,
  body: string,
  to = port,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> | null }> {
  const response = await fetch(`http://127.0.0.1:${to}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: the model server's own answer.
  }
  return { status: response.status, headers: response.headers, json };
}

const carry = (over = {}) => ({ 'filament-objective': writeObjectiveHeader(acmeObjective(over)) });
const CHAT = '{"messages":[{"role":"user","content":"caf\u00e9, \\"q\\""}],"max_tokens":1}';

beforeAll(async () => {
  host = await startPayloadCheckingHost('filament-haproxy-check-');
  port = await freePort();
  openPort = await freePort();
  await startHaproxy();
  await waitFor(
    async () => (await send(carry(), CHAT)).status === 200 || undefined,
    'a first allow',
  );
});
afterAll(async () => {
  haproxy?.kill('SIGTERM');
  await host?.stop();
});

describe("Debian's HAProxy with filament-check.lua", () => {
  test('a matching request reaches the model server with its body byte for byte', async () => {
    const before = host.server.generations.length;
    const reply = await send(carry(), CHAT);
    expect(reply.status).toBe(200);
    expect(host.server.generations.slice(before)).toEqual([CHAT]);
  });

  test('mismatches and an invalid payload never reach the model server; the client gets status and reason', async () => {
    const before = host.server.generations.length;
    const cases: Array<[string, Record<string, string>, string, number, string]> = [
      ['unknown objective', carry({ objective: 'nope' }), CHAT, 409, 'UNKNOWN_OBJECTIVE'],
      [
        'a model the server lacks',
        carry({
          model: 'qwen-7b',
          modelVersion: '2026-09-15',
          routingKey: 'acme.qwen-7b',
          cell: 'B',
        }),
        CHAT,
        421,
        'MODEL_NOT_LOADED',
      ],
      ['an invalid payload', carry(), '{"prompt":"no messages"}', 422, 'PAYLOAD_INVALID'],
      ['no carrier', {}, CHAT, 400, 'CARRIER_MISSING'],
    ];
    for (const [what, headers, body, status, reason] of cases) {
      const reply = await send(headers, body);
      expect({
        what,
        status: reply.status,
        reason: reply.headers.get('filament-reason'),
        code: reply.json?.code,
      }).toEqual({ what, status, reason, code: reason });
    }
    expect(host.server.generations.length).toBe(before);
  });

  test('the body form: no header, the ObjectiveConfig in the payload', async () => {
    const body = JSON.stringify({
      messages: [{ content: 'hi' }],
      filament: objectiveBodyMember(acmeObjective()),
    });
    const reply = await send({}, body);
    expect(reply.status).toBe(200);
    expect(host.server.generations.at(-1)).toBe(body);
  });

  test('a body larger than HAProxy buffers is not passed: the ObjectiveConfig alone is judged', async () => {
    // 1.5 MB against tune.bufsize 1 MiB; its payload is invalid, but no check ever saw all of it.
    const big = JSON.stringify({ prompt: 'x'.repeat(1_500_000) });
    const before = host.server.generations.length;
    const reply = await send(carry(), big);
    expect(reply.status).toBe(200);
    expect(host.server.generations.slice(before)).toEqual([big]);
    const wrong = await send(carry({ objective: 'nope' }), big);
    expect(wrong.status).toBe(409);
  });

  test('filament stopped: "closed" refuses with 503, "open" passes the request on', async () => {
    await host.sidecar.kill('SIGTERM');
    const before = host.server.generations.length;
    const closed = await send(carry(), CHAT);
    expect(closed.status).toBe(503);
    expect(closed.json).toMatchObject({ verdict: 'unavailable' });
    expect(host.server.generations.length).toBe(before);
    const open = await send({}, CHAT, openPort);
    expect(open.status).toBe(200);
    expect(host.server.generations.length).toBe(before + 1);
  });
});
