import * as grpc from '@grpc/grpc-js';
import { createOrcaClient } from '@grpc/grpc-js/build/src/orca.js';
import { vllmMetrics } from '../../src/demo/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { startBenchSidecar } from './bench-sidecar.ts';
import { percentile, processCpuMs } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_ORCA_ROUNDS ?? 20);
const STREAMS = Number(process.env.BENCH_ORCA_STREAMS ?? 200);
const WINDOW_MS = 8000;
const N = 3000;
const { server, sidecar, socket, stop } = await startBenchSidecar('orca');
await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'rules');
const cpuMs = () => processCpuMs(sidecar.pid);
const client = grpcClients(`unix:${socket}`);
const channel = () => new grpc.Channel(`unix:${socket}`, grpc.credentials.createInsecure(), {});
const sidecarApi = client.sidecar as unknown as {
  GetSaturation(r: object, cb: (e: unknown, v: unknown) => void): void;
};
const getSaturation = () =>
  new Promise((resolve, reject) =>
    sidecarApi.GetSaturation({}, (e, v) => (e ? reject(e) : resolve(v))),
  );

async function perCall(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await call();
  const cpu0 = cpuMs();
  for (let i = 0; i < N; i++) await call();
  return (cpuMs() - cpu0) / N;
}

/** The sidecar's CPU over WINDOW_MS with no client (scrapes, evaluations), ms. */
async function idleCpu(): Promise<number> {
  const cpu0 = cpuMs();
  await Bun.sleep(WINDOW_MS);
  return cpuMs() - cpu0;
}

/** CPU per ORCA report: STREAMS streams for WINDOW_MS, less the mean of idle windows around it. */
async function perReport(): Promise<{ cpu: number; reports: number }> {
  const idleBefore = await idleCpu();
  const clients = Array.from({ length: STREAMS }, () => createOrcaClient(channel()));
  let reports = 0;
  const streams = clients.map((c) => {
    const s = c.streamCoreMetrics({ report_interval: { seconds: 0, nanos: 250_000_000 } });
    s.on('data', () => reports++);
    s.on('error', () => {});
    return s;
  });
  await Bun.sleep(1000);
  const before = reports;
  const cpu0 = cpuMs();
  await Bun.sleep(WINDOW_MS);
  const busy = cpuMs() - cpu0;
  const sent = reports - before;
  for (const s of streams) s.cancel();
  for (const c of clients) c.close();
  await Bun.sleep(500);
  const idle = (idleBefore + (await idleCpu())) / 2;
  return { cpu: (busy - idle) / sent, reports: sent };
}

console.log(`filament ORCA — ${new Date().toISOString()}, Bun ${Bun.version}\n`);
const rounds: Array<{ check: number; saturation: number; report: number; reports: number }> = [];
for (let round = 0; round < 2; round++) {
  const check = await perCall(() => client.check(''));
  const saturation = await perCall(getSaturation);
  const { cpu: report, reports } = await perReport();
  rounds.push({ check, saturation, report, reports });
  console.log(
    `round ${round + 1}: CPU per health Check ${(check * 1000).toFixed(0)} µs, per GetSaturation (+ header) ${(saturation * 1000).toFixed(0)} µs, per ORCA report ${(report * 1000).toFixed(0)} µs (${reports} reports on ${STREAMS} streams in ${WINDOW_MS / 1000} s)`,
  );
}
const mean = (key: 'check' | 'saturation' | 'report') =>
  rounds.reduce((t, r) => t + r[key], 0) / rounds.length;
console.log(
  `ratio to a health Check: ORCA report ${(mean('report') / mean('check')).toFixed(2)}, GetSaturation ${(mean('saturation') / mean('check')).toFixed(2)}`,
);

// 2. Reaction: READY ↔ SATURATED at the model server → the first report with the new state.
const watcher = createOrcaClient(channel());
let latest = { application_utilization: 0, at: 0 };
const stream = watcher.streamCoreMetrics({ report_interval: { seconds: 10, nanos: 0 } });
stream.on('data', (r: { application_utilization: number }) => {
  latest = { application_utilization: r.application_utilization, at: performance.now() };
});
stream.on('error', () => {});
await Bun.sleep(500);
const times: number[] = [];
let busy = false;
for (let i = 0; i < ROUNDS; i++) {
  await Bun.sleep(300 + Math.random() * 300);
  busy = !busy;
  const t0 = performance.now();
  server.metrics = busy ? vllmMetrics(40, 64, 0.97) : vllmMetrics(0, 1, 0.1);
  for (;;) {
    const u = latest.application_utilization;
    if (latest.at > t0 && (busy ? u > 0.85 : u < 0.5)) break;
    if (performance.now() - t0 > 10_000) throw new Error('no ORCA report with the new state');
    await Bun.sleep(2);
  }
  times.push(latest.at - t0);
}
stream.cancel();
watcher.close();
console.log(
  `state change at the model server → ORCA report (report_interval 10 s, so sent on the change): p50 ${percentile(times, 50).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms over ${times.length} changes`,
);
client.close();
await stop();
