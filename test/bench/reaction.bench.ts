/**
 * Reaction benchmark (not part of `npm test`): `bun test/bench/reaction.bench.ts`.
 * A `filament run` process watches a model-server stand-in; a resolver in this process follows
 * the reports. Each round flips the load between idle and saturated and measures the time from
 * the change at the model server to the changed report arriving at the resolver: once with the
 * load pushed over the ReportLoad RPC, once with the default 100 ms metrics scrape.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from '../../src/api/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import type { SaturationReport } from '../../src/report/index.ts';
import { Resolver } from '../../src/resolver/index.ts';
import { startModelServerStub, vllmMetrics } from '../helpers/model-server-stub.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { percentile } from './stats.ts';

const ROUNDS = 60;
const broker = await startMosquitto({ extraConfig: ['set_tcp_nodelay true'] });
const server = await startModelServerStub();
const dir = await tempDir('filament-reaction-');
server.ready = true;
server.metrics = vllmMetrics(0);
await publishOnce({
  url: broker.url,
  topic: rulesTopic('filament/v1', 'acme'),
  payload: jsonBytes(ruleSet('acme', 1)),
});

async function runMode(mode: 'push' | 'scrape'): Promise<number[]> {
  const socket = join(dir.path, `${mode}.sock`);
  const config = join(dir.path, `${mode}.toml`);
  const replica = `reaction-${mode}`;
  const saturation = [
    '[saturation]',
    'smoothing = 1',
    'warmup_ms = 0',
    'max_queue = 10',
    'min_gap_ms = 0',
    'nvidia_smi = "off"',
    `readiness_url = "${server.base}/v2/health/ready"`,
    ...(mode === 'scrape'
      ? [`metrics_url = "${server.base}/metrics"`, 'scrape_interval_ms = 100']
      : []),
  ];
  await writeFile(
    config,
    `[api]\nsocket = "${socket}"\n[log]\nlevel = "warn"\n${saturation.join('\n')}\n`,
  );
  const sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      tenant: 'acme',
      replica,
      stateDir: join(dir.path, mode),
    }),
  );
  const resolver = new Resolver({ urls: [broker.url] });
  const arrivals: Array<{ state: string; t: number }> = [];
  resolver.onReport((r: SaturationReport) => {
    if (r.replica === replica) arrivals.push({ state: r.state, t: performance.now() });
  });
  resolver.start();
  const until = async (state: string, after: number) => {
    const deadline = performance.now() + 5000;
    for (;;) {
      const hit = arrivals.find((a) => a.t >= after && a.state === state);
      if (hit) return hit.t;
      if (performance.now() > deadline) throw new Error(`${mode}: no ${state} report within 5 s`);
      await Bun.sleep(1);
    }
  };
  const client = new (clientConstructor('filament.v1.Sidecar'))(
    `unix:${socket}`,
    grpc.credentials.createInsecure(),
  ) as unknown as {
    ReportLoad(cb: () => void): grpc.ClientWritableStream<object>;
    close(): void;
  };
  await until('READY', 0).catch(async () => {
    await Bun.sleep(500);
  });
  const push = mode === 'push' ? client.ReportLoad(() => {}) : null;
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const saturated = round % 2 === 0;
    await Bun.sleep(150);
    const t0 = performance.now();
    if (push) push.write({ queue: saturated ? 10 : 0, in_flight: 1 });
    else server.metrics = vllmMetrics(saturated ? 10 : 0);
    const t1 = await until(saturated ? 'SATURATED' : 'READY', t0);
    if (round >= 4) times.push(t1 - t0);
  }
  push?.end();
  client.close();
  await resolver.stop();
  await sidecar.kill();
  return times;
}

const push = await runMode('push');
server.metrics = vllmMetrics(0);
const scrape = await runMode('scrape');
console.log(
  `\nfilament reaction time — ${new Date().toISOString()}, Bun ${Bun.version}, mosquitto on loopback`,
);
console.log('load change at the model server → changed report at the resolver\n');
for (const [label, times] of [
  ['pushed over ReportLoad', push],
  ['scraped every 100 ms', scrape],
] as const) {
  console.log(
    `${label.padEnd(24)} p50 ${percentile(times, 50).toFixed(1)} ms   p99 ${percentile(times, 99).toFixed(1)} ms   (${times.length} changes)`,
  );
}
console.log('target: p99 ≤ 50 ms with push');
await server.close();
await broker.stop();
await dir.remove();
process.exit(0);
