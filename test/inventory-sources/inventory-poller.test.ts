import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../src/clock/index.ts';
import { type ModelServerStandIn, startModelServerStandIn } from '../../src/demo/index.ts';
import { LiveInventory } from '../../src/inventory/index.ts';
import {
  type InventoryChange,
  InventoryPoller,
  type ServerEndpoint,
} from '../../src/inventory-sources/index.ts';
import { createLogger } from '../../src/log/index.ts';

type LogRecord = Record<string, unknown>;

import type { ModelRule } from '../../src/rules/index.ts';

const rule = (id: string, served?: ModelRule['served']): ModelRule => ({
  id,
  version: '1',
  routingKey: id,
  cluster: 'c',
  schemaId: 's',
  ...(served ? { served } : {}),
});

function poller(endpoint: ServerEndpoint, keepLastGoodMs = 60_000) {
  const inventory = new LiveInventory(endpoint.url);
  const logs: LogRecord[] = [];
  const changes: InventoryChange[] = [];
  const polls: boolean[] = [];
  const p = new InventoryPoller({
    endpoint,
    inventory,
    intervalMs: 50,
    limits: { timeoutMs: 500, maxBytes: 64 * 1024 },
    keepLastGoodMs,
    clock: systemClock,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
    onChange: (c) => changes.push(c),
    onPoll: (ok) => polls.push(ok),
  });
  return { p, inventory, logs, changes, polls };
}

let stand: ModelServerStandIn;
beforeAll(async () => {
  stand = await startModelServerStandIn();
});
afterAll(() => stand.close());

describe('InventoryPoller against a model-server stand-in', () => {
  for (const kind of ['vllm', 'sglang', 'tgi', 'triton'] as const) {
    test(`${kind}: a model the server lists can serve; dropped, it cannot`, async () => {
      stand.served = [{ id: 'llama', revision: 'abc' }];
      const { p, inventory, changes } = poller({ kind, url: stand.base });
      await p.pollNow();
      expect(inventory.check(rule('llama'), undefined)).toBeNull();
      // (TGI serves one model, and has no /info without one: the server now serves another.)
      stand.served = [{ id: 'qwen' }];
      await p.pollNow();
      expect(inventory.check(rule('llama'), undefined)?.code).toBe('MODEL_NOT_LOADED');
      expect(changes.at(-1)).toEqual({ added: ['qwen'], removed: ['llama'], changed: [] });
    });
  }

  test('an adapter loaded at run time is seen on the next poll', async () => {
    stand.served = [{ id: 'base' }];
    const { p, inventory, changes } = poller({ kind: 'vllm', url: stand.base });
    const lora = rule('lora', { adapterOf: 'base', source: '/adapters/acme/lora' });
    await p.pollNow();
    expect(inventory.check(lora, rule('base'))?.code).toBe('ADAPTER_NOT_LOADED');
    stand.served = [{ id: 'base' }, { id: 'lora', parent: 'base', root: '/adapters/acme/lora' }];
    await p.pollNow();
    expect(inventory.check(lora, rule('base'))).toBeNull();
    expect(changes.at(-1)).toEqual({ added: ['lora'], removed: [], changed: [] });
  });

  test('a TGI model_sha that changes is a changed model and a version mismatch', async () => {
    stand.served = [{ id: 'mistral', revision: 'b70aa865' }];
    const { p, inventory, changes } = poller({ kind: 'tgi', url: stand.base });
    const m = rule('mistral', { revision: 'b70aa865' });
    await p.pollNow();
    expect(inventory.check(m, undefined)).toBeNull();
    stand.served = [{ id: 'mistral', revision: '0e9e39f2' }];
    await p.pollNow();
    expect(inventory.check(m, undefined)?.code).toBe('MODEL_VERSION_MISMATCH');
    expect(changes.at(-1)).toEqual({ added: [], removed: [], changed: ['mistral'] });
  });
});

describe('a KServe v2 server without the repository index', () => {
  test('is asked model by model for what the rules route here', async () => {
    const ready = new Set(['qa', 'bert@3']);
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/ready$/.exec(req.url ?? '');
      if (m) {
        const key = m[2]
          ? `${decodeURIComponent(m[1] as string)}@${m[2]}`
          : decodeURIComponent(m[1] as string);
        res.writeHead(ready.has(key) ? 200 : 400).end();
      } else res.writeHead(404).end('{"error":"not found"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const inventory = new LiveInventory(url);
    const p = new InventoryPoller({
      endpoint: { kind: 'triton', url },
      inventory,
      intervalMs: 1000,
      limits: { timeoutMs: 500, maxBytes: 1024 },
      keepLastGoodMs: 1000,
      clock: systemClock,
      logger: createLogger({ write: () => {} }),
      wanted: () => [{ name: 'qa' }, { name: 'bert', revision: '3' }, { name: 'gone' }],
    });
    await p.pollNow();
    server.close();
    expect(seen).toContain('POST /v2/repository/index');
    expect(seen).toContain('GET /v2/models/bert/versions/3/ready');
    expect(inventory.served()).toEqual([
      { name: 'bert', state: 'ready', revision: '3' },
      { name: 'qa', state: 'ready' },
    ]);
    expect(inventory.check(rule('gone'), undefined)?.code).toBe('MODEL_NOT_LOADED');
    expect(inventory.check(rule('bert', { revision: '3' }), undefined)).toBeNull();
  });
});

describe('InventoryPoller against a misbehaving server', () => {
  let server: Server;
  let base: string;
  let mode = 'ok';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      if (mode === 'ok')
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"object":"list","data":[{"id":"llama","root":"llama"}]}');
      else if (mode === '500') res.writeHead(500).end('boom');
      else if (mode === 'html')
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      else if (mode === 'garbage')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": [');
      else if (mode === 'huge')
        res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(200_000));
      // 'hang': never answers.
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  test('failures keep the last good answer for a bounded time, then refuse; one log line per distinct error', async () => {
    mode = 'ok';
    const { p, inventory, logs, polls } = poller({ kind: 'vllm', url: base }, 300);
    await p.pollNow();
    expect(inventory.check(rule('llama'), undefined)).toBeNull();
    for (const m of ['500', '500', 'html', 'garbage', 'huge']) {
      mode = m;
      await p.pollNow();
      // Still within the time the last good answer is trusted.
      expect(inventory.check(rule('llama'), undefined)).toBeNull();
    }
    const warnings = logs.filter((l) => l.msg === 'model server inventory failing');
    expect(warnings.map((l) => String(l.error))).toEqual([
      `${base}/v1/models answered HTTP 500`,
      `${base}/v1/models answered text/html, not JSON`,
      `GET ${base}/v1/models is not JSON: JSON Parse error: Unexpected EOF`,
      `${base}/v1/models answered more than the 65536-byte cap`,
    ]);
    await Bun.sleep(320);
    mode = 'hang';
    await p.pollNow();
    expect(inventory.check(rule('llama'), undefined)).toEqual({
      code: 'INVENTORY_UNCONFIRMED',
      message: `cannot confirm that model "llama" is loaded: the model server's inventory (vllm ${base}/v1/models) has not answered for over 0 s: ${base}/v1/models did not answer in full within 500 ms`,
    });
    expect(
      logs.some((l) => l.msg === 'model server inventory unconfirmed: refusing its models'),
    ).toBe(true);
    mode = 'ok';
    await p.pollNow();
    expect(inventory.check(rule('llama'), undefined)).toBeNull();
    expect(logs.at(-2)?.msg).toBe('model server inventory answers again');
    expect(polls).toEqual([true, false, false, false, false, false, false, true]);
  });

  test('generic: any JSON answer, read with pointers', async () => {
    mode = 'ok';
    const { p, inventory } = poller({
      kind: 'generic',
      url: base,
      generic: { path: '/anything', list: '/data', name: '/id', revision: '/root' },
    });
    await p.pollNow();
    expect(inventory.served()).toEqual([{ name: 'llama', state: 'ready', revision: 'llama' }]);
    expect(p.description).toBe(`generic ${base}/anything`);
  });

  test('a server that never answered well leaves every model unconfirmed', async () => {
    mode = '500';
    const { p, inventory } = poller({ kind: 'vllm', url: base });
    await p.pollNow();
    expect(inventory.check(rule('llama'), undefined)?.code).toBe('INVENTORY_UNCONFIRMED');
  });

  test('start polls at once and then every interval; stop stops', async () => {
    mode = 'ok';
    const { p, polls } = poller({ kind: 'vllm', url: base });
    p.start();
    await Bun.sleep(180);
    p.stop();
    const seen = polls.length;
    expect(seen).toBeGreaterThanOrEqual(2);
    await Bun.sleep(120);
    expect(polls.length).toBe(seen);
  });
});
