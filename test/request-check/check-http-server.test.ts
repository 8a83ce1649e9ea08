import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { CheckHttpServer } from '../../src/api/check-http-server.ts';
import { createLogger } from '../../src/log/index.ts';
import { writeObjectiveHeader } from '../../src/resolver/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { validationFixture } from '../helpers/validation-fixture.ts';

// The HTTP check endpoint over a real unix socket and a real loopback port, with the real
// validation engine behind it (rules applied by RuleApplier, a static inventory).

const fixture = validationFixture([5]);
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: CheckHttpServer;
let socket: string;
const answers: number[] = [];

function start(extra: Partial<ConstructorParameters<typeof CheckHttpServer>[0]> = {}) {
  return new CheckHttpServer({
    socketPath: socket,
    tcpListen: '127.0.0.1:0',
    require: true,
    bodyField: 'filament',
    elsewhereStatus: 421,
    payloadLimits: { maxBytes: 1 << 20, maxDepth: 32 },
    maxBodyBytes: 64 * 1024,
    maxConnections: 64,
    headersTimeoutMs: 500,
    judge: (config, payload) => fixture.validator.validate(config, payload),
    logger: createLogger({ level: 'error', write: () => {} }),
    onAnswer: (a) => answers.push(a.status),
    ...extra,
  });
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One request over the unix socket (or TCP with `port`). */
function ask(
  headers: Record<string, string | string[]>,
  body?: string,
  options: { port?: number; method?: string; path?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        ...(options.port ? { host: '127.0.0.1', port: options.port } : { socketPath: socket }),
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        path: options.path ?? '/v1/check',
        headers: {
          ...headers,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const carry = (overrides = {}) => ({
  'filament-objective': writeObjectiveHeader(fixture.config(overrides)),
});
const MESSAGES = { messages: [{ role: 'user', content: 'hi' }] };

beforeAll(async () => {
  dir = await tempDir('filament-check-');
  socket = join(dir.path, 'check.sock');
  server = start();
  await server.start();
});
afterAll(async () => {
  await server.stop();
  await dir.remove();
});

describe('the HTTP check endpoint', () => {
  test('a matching request is allowed, with the rule version the proxy may copy upstream', async () => {
    const reply = await ask(carry());
    expect(reply.status).toBe(200);
    expect(reply.headers['filament-verdict']).toBe('allow');
    expect(reply.headers['filament-rule-version']).toBe('5');
    // Over loopback TCP too, and whatever the method and path (Envoy and Traefik forward theirs).
    const tcp = await ask(carry(), undefined, {
      port: server.tcpPort ?? 0,
      method: 'DELETE',
      path: '/v1/completions?x=1',
    });
    expect(tcp.status).toBe(200);
  });

  test('a model this host lacks: 421 with the reason, so the proxy tries another host', async () => {
    const reply = await ask(
      carry({ model: 'absent', modelVersion: '1', routingKey: 'acme.absent' }),
    );
    expect(reply.status).toBe(421);
    expect(reply.headers['filament-verdict']).toBe('elsewhere');
    expect(reply.headers['filament-reason']).toBe('MODEL_NOT_LOADED');
    expect(reply.body).toMatchObject({ verdict: 'elsewhere', code: 'MODEL_NOT_LOADED' });
    expect(String(reply.body.message)).toContain('absent');
  });

  test('a request that is itself wrong: 4xx with the reason and a sentence, not retried', async () => {
    const unknown = await ask(carry({ objective: 'nope' }));
    expect(unknown.status).toBe(409);
    expect(unknown.headers['filament-reason']).toBe('UNKNOWN_OBJECTIVE');
    const old = await ask(carry({ ruleVersion: 1 }));
    expect(old.headers['filament-reason']).toMatch(/^RULE_VERSION_/);
  });

  test('no carrier, a malformed one, a duplicated one: 400 naming what was wrong, never an allow', async () => {
    const none = await ask({});
    expect(none.status).toBe(400);
    expect(none.headers['filament-reason']).toBe('CARRIER_MISSING');
    const bad = await ask({ 'filament-objective': 'v1.not base64!' });
    expect(bad.status).toBe(400);
    expect(bad.headers['filament-reason']).toBe('CARRIER_MALFORMED');
    const twice = await ask({
      'filament-objective': [carry()['filament-objective'], carry()['filament-objective']],
    });
    expect(twice.status).toBe(400);
    expect(twice.headers['filament-reason']).toBe('CARRIER_DUPLICATED');
  });

  test('the body: payload checked when passed, the body form read when no header came', async () => {
    const ok = await ask(carry(), JSON.stringify(MESSAGES));
    expect(ok.status).toBe(200);
    expect(ok.body.payload).toBe('checked');
    const invalid = await ask(carry(), JSON.stringify({ prompt: 'hi' }));
    expect(invalid.status).toBe(422);
    expect(invalid.headers['filament-reason']).toBe('PAYLOAD_INVALID');
    const { objectiveBodyMember } = await import('../../src/resolver/index.ts');
    const bodyForm = await ask(
      {},
      JSON.stringify({ ...MESSAGES, filament: objectiveBodyMember(fixture.config()) }),
    );
    expect(bodyForm.status).toBe(200);
    const badMember = await ask({}, JSON.stringify({ ...MESSAGES, filament: { tenant: 'acme' } }));
    expect(badMember.status).toBe(400);
    expect(badMember.headers['filament-reason']).toBe('CARRIER_MALFORMED');
  });

  test('a body over the limit is refused (413) without being read to its end', async () => {
    const big = await ask(carry(), JSON.stringify({ messages: [{ content: 'x'.repeat(70_000) }] }));
    expect(big.status).toBe(413);
    expect(big.headers['filament-reason']).toBe('CARRIER_TOO_LARGE');
  });

  test('a client that never finishes its headers is cut off', async () => {
    const closed = await new Promise<number>((resolve) => {
      const started = Date.now();
      const conn = createConnection({ path: socket }, () =>
        conn.write('GET / HTTP/1.1\r\nHost: x\r\n'),
      );
      conn.on('close', () => resolve(Date.now() - started));
      conn.on('data', () => {});
      conn.on('error', () => {});
    });
    expect(closed).toBeLessThan(5_000);
  });

  test('require = false lets a request without a carrier through, marked, but never a malformed one', async () => {
    const lenientDir = await tempDir('filament-check-lenient-');
    const path = join(lenientDir.path, 'check.sock');
    const lenient = start({ socketPath: path, tcpListen: null, require: false });
    await lenient.start();
    const previous = socket;
    socket = path;
    try {
      const none = await ask({});
      expect(none.status).toBe(200);
      expect(none.headers['filament-verdict']).toBe('unchecked');
      const bad = await ask({ 'filament-objective': 'garbage' });
      expect(bad.status).toBe(400);
    } finally {
      socket = previous;
      await lenient.stop();
      await lenientDir.remove();
    }
  });
});

describe('the check endpoint under a connection flood', () => {
  test('10,000 connections at once: those over the cap that reach it are refused and counted, logged once; checks go on after', async () => {
    const floodDir = await tempDir('filament-check-flood-');
    const refused: string[] = [];
    const warnings: string[] = [];
    const flooded = start({
      socketPath: join(floodDir.path, 'check.sock'),
      tcpListen: '127.0.0.1:0',
      maxConnections: 100,
      headersTimeoutMs: 60_000,
      onConnectionRefused: (reason) => refused.push(reason),
      logger: createLogger({
        level: 'warn',
        write: (line) => warnings.push(JSON.parse(line).msg as string),
      }),
    });
    await flooded.start();
    const port = flooded.tcpPort ?? 0;
    try {
      const { createConnection: connect } = await import('node:net');
      const sockets: ReturnType<typeof connect>[] = [];
      for (let i = 0; i < 10_000; i++) {
        const socket = connect({ host: '127.0.0.1', port });
        socket.on('error', () => {});
        sockets.push(socket);
      }
      // Until the count stops growing: connections past the kernel's accept queue never reach
      // the process (the kernel drops them), so not every one of the 9,900 over the cap is seen.
      await settled(() => refused.length);
      expect(refused.length).toBeGreaterThanOrEqual(1_000);
      expect(new Set(refused)).toEqual(new Set(['too_many_connections']));
      expect(warnings.filter((w) => w.includes('over check.max_connections')).length).toBe(1);
      // The 100 held connections go; the next check gets through.
      for (const s of sockets) s.destroy();
      const { waitFor } = await import('../helpers/wait.ts');
      const reply = await waitFor(
        async () => {
          const r = await ask(carry(), undefined, { port }).catch(() => undefined);
          return r?.status === 200 ? r : undefined;
        },
        'a check after the flood',
        20_000,
        100,
      );
      expect(reply.headers['filament-verdict']).toBe('allow');
    } finally {
      await flooded.stop();
      await floodDir.remove();
    }
  }, 90_000);
});

/** Resolves once `count` has not changed for a second (or after 30 s). */
async function settled(count: () => number): Promise<void> {
  let last = -1;
  for (let i = 0; i < 60 && count() !== last; i++) {
    last = count();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('a second endpoint on a socket that is in use', () => {
  test('refuses to start, and leaves the live socket alone', async () => {
    const second = start({ tcpListen: null });
    await expect(second.start()).rejects.toThrow(/another process is already serving/);
    await second.stop();
    const reply = await ask(carry());
    expect(reply.status).toBe(200);
  });
});
