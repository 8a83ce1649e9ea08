/**
 * What the live inventory costs and how fast its news travels (not part of `npm test`):
 * `bun test/bench/inventory.bench.ts`. Four figures, each against its own baseline in this run:
 *  1. in-process Validate throughput with a discovered inventory vs the static [[models]] list
 *     (target ≥ 1 M/s and a ratio near 1), rounds interleaved;
 *  2. reconciliation of 10,000 objectives × 100 models (all in this host's cluster), p50/p99
 *     (target ≤ 10 ms), from a cold cache each time;
 *  3. an adapter unloaded/loaded at a vLLM stand-in → a Resolver stops/starts picking that host
 *     for its routing key, with the default 2 s poll (target p99 ≤ poll + 50 ms), and the same
 *     through DeclareModels (push; target p99 ≤ 50 ms), real `filament run` processes and mosquitto;
 *  4. idle CPU of a sidecar polling its server every 2 s vs one with a static list, side by side.
 * BENCH_INVENTORY_ROUNDS sets the number of reaction samples (default 20 polled, 50 pushed).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startModelServerStandIn, vllmMetrics } from '../../src/demo/index.ts';
import { LiveInventory, reconcile, StaticModelInventory } from '../../src/inventory/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { Resolver } from '../../src/resolver/index.ts';
import { RuleApplier, type RuleSet, RuleStore } from '../../src/rules/index.ts';
import { RequestValidator } from '../../src/validation/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes, largeRuleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { validationFixture } from '../helpers/validation-fixture.ts';
import { percentile, processCpuMs } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_INVENTORY_ROUNDS ?? 20);
console.log(`filament live inventory — ${new Date().toISOString()}, Bun ${Bun.version}\n`);

// 1. Validate throughput: static list vs discovered inventory, same rules and requests.
{
  const fixture = validationFixture();
  const live = new LiveInventory('bench');
  live.replace(
    fixture.models.list().map((m) => ({
      name: m.id,
      root: `/models/${m.id}/${m.version}`,
      state: m.ready ? ('ready' as const) : ('loading' as const),
    })),
  );
  const validators = {
    static: new RequestValidator({
      store: fixture.store,
      models: fixture.models,
      cluster: 'gpu-east',
      payloadLimits: { maxBytes: 1 << 20, maxDepth: 32 },
    }),
    discovered: new RequestValidator({
      store: fixture.store,
      models: live,
      cluster: 'gpu-east',
      payloadLimits: { maxBytes: 1 << 20, maxDepth: 32 },
    }),
  };
  const configs = [
    fixture.config(),
    fixture.config({ model: 'qwen', routingKey: 'acme.qwen', modelVersion: '1', cell: 'B' }),
    fixture.config({ model: 'fallback', routingKey: 'acme.fallback', modelVersion: '1' }),
    fixture.config({ ruleVersion: 4, modelVersion: '2026-10-01' }),
  ];
  const rate = (v: RequestValidator) => {
    for (let i = 0; i < 200_000; i++) v.validate(configs[i & 3] as (typeof configs)[number]);
    let calls = 0;
    const end = performance.now() + 1000;
    while (performance.now() < end) {
      for (let i = 0; i < 10_000; i++)
        if (!v.validate(configs[i & 3] as (typeof configs)[number]).ok) throw new Error('refused');
      calls += 10_000;
    }
    return calls;
  };
  const got = { static: [] as number[], discovered: [] as number[] };
  for (let round = 0; round < 4; round++)
    for (const kind of ['static', 'discovered'] as const) got[kind].push(rate(validators[kind]));
  const med = (xs: number[]) => percentile(xs, 50);
  console.log(
    `Validate, metadata only: static list ${(med(got.static) / 1e6).toFixed(2)} M/s, discovered inventory ${(med(got.discovered) / 1e6).toFixed(2)} M/s; ratio ${(med(got.discovered) / med(got.static)).toFixed(2)} (medians of 4 interleaved 1 s rounds; target ≥ 1 M/s)`,
  );
}

// 2. Reconciliation of 10,000 objectives × 100 models, all routed to this host's cluster.
{
  const set = largeRuleSet('acme', 1, 10_000, 100) as RuleSet;
  const oneCluster = { ...set, models: set.models.map((m) => ({ ...m, cluster: 'gpu-east' })) };
  const store = new RuleStore(2);
  const outcome = new RuleApplier(store, {
    limits: { maxBytes: 64 << 20, maxDepth: 32 },
    now: () => Date.parse('2026-12-01T00:00:00Z'),
  }).apply({
    tenant: 'acme',
    bytes: jsonBytes(oneCluster),
  });
  if (outcome.status !== 'applied') throw new Error(JSON.stringify(outcome));
  const live = new LiveInventory('bench');
  const served = oneCluster.models
    .slice(0, 90)
    .map((m) => ({ name: m.id, state: 'ready' as const }));
  const times: number[] = [];
  let unservable = 0;
  for (let i = 0; i < 210; i++) {
    live.replace(i % 2 ? served : served.slice(1)); // a change each time: no cached judgement
    const t0 = performance.now();
    unservable = reconcile('acme', outcome.rules, 'gpu-east', live).unservableObjectives.length;
    if (i >= 10) times.push(performance.now() - t0);
  }
  const staticTimes: number[] = [];
  const list = new StaticModelInventory(
    served.map((m) => ({ id: m.name, version: '1', ready: true })),
  );
  for (let i = 0; i < 210; i++) {
    list.replace(list.list());
    const t0 = performance.now();
    reconcile('acme', outcome.rules, 'gpu-east', list);
    if (i >= 10) staticTimes.push(performance.now() - t0);
  }
  console.log(
    `reconcile 10,000 objectives × 100 models: p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms (target ≤ 10 ms; ${unservable} objectives unservable); against a static list p50 ${percentile(staticTimes, 50).toFixed(2)} ms`,
  );
}

// 3 and 4. Real processes.
const broker = await startMosquitto();
const dir = await tempDir('filament-inventory-bench-');
const BASE = 'meta-llama/Llama-3.1-8B-Instruct';
const rules = {
  tenant: 'acme',
  version: 1,
  issuedAt: '2026-12-01T00:00:00Z',
  schemas: [{ id: 'chat/v1', schema: true }],
  models: [
    {
      id: 'llama',
      version: '1',
      routingKey: 'acme.llama',
      cluster: 'gpu-east',
      schemaId: 'chat/v1',
      served: { name: BASE },
    },
    {
      id: 'support',
      version: '1',
      routingKey: 'acme.support',
      cluster: 'gpu-east',
      schemaId: 'chat/v1',
      served: { name: 'support-v2', adapterOf: 'llama', source: '/adapters/acme/support-v2' },
    },
  ],
  objectives: [{ id: 'chat', defaultModel: 'llama', fallback: ['support'] }],
};
await publishOnce({
  url: broker.url,
  topic: rulesTopic('filament/v1', 'acme'),
  payload: jsonBytes(rules),
});
const resolver = new Resolver({ urls: [broker.url] });
resolver.start();
const processes: SidecarProcess[] = [];

async function sidecar(
  name: string,
  lines: string[],
): Promise<{ process: SidecarProcess; socket: string }> {
  const socket = join(dir.path, `${name}.sock`);
  const config = join(dir.path, `${name}.toml`);
  await writeFile(config, [`[api]`, `socket = "${socket}"`, ...lines].join('\n'));
  const process_ = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      tenant: 'acme',
      replica: name,
      stateDir: join(dir.path, name),
    }),
  );
  processes.push(process_);
  await process_.waitForLog((l) => l.msg === 'sidecar started', 'start-up');
  return { process: process_, socket };
}

/** Whether the resolver would pick `replica` for acme.support (it takes part in the choice). */
const picksSupport = (replica: string) => {
  const entry = resolver.replicas().find((r) => r.report.replica === replica);
  return (
    entry !== undefined &&
    resolver.servable.answer(entry, { tenant: 'acme', routingKey: 'acme.support' }) === 'yes'
  );
};

/** ms from `change()` until the resolver's answer for acme.support on `replica` is `want`. */
async function reaction(replica: string, want: boolean, change: () => unknown): Promise<number> {
  const t0 = performance.now();
  await change();
  while (picksSupport(replica) !== want) {
    if (performance.now() - t0 > 15_000) throw new Error(`${replica}: no reaction within 15 s`);
    await Bun.sleep(1);
  }
  return performance.now() - t0;
}

const server = await startModelServerStandIn();
server.ready = true;
server.metrics = vllmMetrics(0, 1, 0.1);
const base = { id: BASE, root: `/models/${BASE}` };
const adapter = { id: 'support-v2', parent: BASE, root: '/adapters/acme/support-v2' };
server.served = [base, adapter];
const saturation = [
  '[saturation]',
  `metrics_url = "${server.base}/metrics"`,
  'nvidia_smi = "off"',
  'warmup_ms = 0',
];
await sidecar('polled', saturation);
const pushed = await sidecar('pushed', [
  '[inventory]',
  'source = "push"',
  '[saturation]',
  'nvidia_smi = "off"',
  'warmup_ms = 0',
]);
const client = grpcClients(`unix:${pushed.socket}`);
const declare = (loaded: boolean) =>
  client.declareModels({
    models: [
      { name: BASE, root: base.root },
      ...(loaded ? [{ name: adapter.id, parent: BASE, root: adapter.root }] : []),
    ],
  });
await declare(true);
while (!picksSupport('polled') || !picksSupport('pushed')) await Bun.sleep(20);

const polledTimes: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  // A random moment within the poll cycle, as a real unload would land.
  await Bun.sleep(Math.random() * 2000);
  const loaded = i % 2 === 1;
  polledTimes.push(
    await reaction('polled', loaded, () => (server.served = loaded ? [base, adapter] : [base])),
  );
}
const pushedTimes: number[] = [];
for (let i = 0; i < Math.max(ROUNDS, 50); i++) {
  const loaded = i % 2 === 1;
  pushedTimes.push(await reaction('pushed', loaded, () => declare(loaded)));
  await Bun.sleep(20);
}
const line = (label: string, xs: number[], target: string) =>
  console.log(
    `${label}: p50 ${percentile(xs, 50).toFixed(0)} ms, p99 ${percentile(xs, 99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms over ${xs.length} changes (${target})`,
  );
line('adapter change at the server → resolver (2 s poll)', polledTimes, 'target p99 ≤ 2050 ms');
line('adapter change declared (push) → resolver', pushedTimes, 'target p99 ≤ 50 ms');

// 4. Idle CPU, side by side for the same 30 s: the polling sidecar and one with a static list.
const staticOne = await sidecar('static', [
  '[[models]]',
  `id = "${BASE}"`,
  'version = "1"',
  '[saturation]',
  `metrics_url = "${server.base}/metrics"`,
  'nvidia_smi = "off"',
  '[inventory]',
  'source = "static"',
]);
const polledProcess = processes[0] as SidecarProcess;
const cpuMs = processCpuMs;
await Bun.sleep(3000);
const before = [cpuMs(polledProcess.pid), cpuMs(staticOne.process.pid)];
await Bun.sleep(30_000);
const used = [
  cpuMs(polledProcess.pid) - (before[0] as number),
  cpuMs(staticOne.process.pid) - (before[1] as number),
];
console.log(
  `idle CPU over 30 s (both scraping metrics every 100 ms): polling the inventory every 2 s ${(((used[0] as number) / 30_000) * 100).toFixed(2)} % of a core, static list ${(((used[1] as number) / 30_000) * 100).toFixed(2)} %; ratio ${((used[0] as number) / Math.max(1, used[1] as number)).toFixed(2)}`,
);

client.close();
await resolver.stop();
for (const p of processes) await p.kill('SIGTERM');
await server.close();
await broker.stop();
await dir.remove();
