/**
 * HAProxy agent-check cost and reaction (not part of `npm test`): `bun test/bench/agent-check.bench.ts`.
 *  1. cost: the sidecar's CPU per agent-check answer against its CPU per gRPC health Check (the
 *     baseline, same process, same run), and the client-side latency of each;
 *  2. reaction: a load change at the model server → HAProxy's weight for that server changes
 *     (read from HAProxy's own stats socket), p50/p99 over BENCH_AGENT_ROUNDS changes, with
 *     `agent-inter 500ms`.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { vllmMetrics } from '../../src/demo/index.ts';
import { freePort, waitForPort } from '../../src/local-broker/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { startBenchSidecar } from './bench-sidecar.ts';
import { percentile, processCpuMs } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_AGENT_ROUNDS ?? 20);
const N = 3000;
const agentPort = await freePort();
const { server, sidecar, socket, dir, stop } = await startBenchSidecar('agent', [
  '[agent_check]',
  `listen = "127.0.0.1:${agentPort}"`,
]);
await sidecar.waitForLog((l) => l.msg === 'HAProxy agent-check listening', 'the agent port');
const cpuMs = () => processCpuMs(sidecar.pid);
const agentCheck = () =>
  new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: agentPort });
    let text = '';
    s.on('data', (c) => {
      text += String(c);
    });
    s.on('error', reject);
    s.on('close', () => resolve(text));
  });
const client = grpcClients(`unix:${socket}`);

async function measure(label: string, call: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await call();
  const times: number[] = [];
  const cpu0 = cpuMs();
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await call();
    times.push((performance.now() - t0) * 1000);
  }
  const cpu = (cpuMs() - cpu0) / N;
  return { label, cpu, p50: percentile(times, 50), p99: percentile(times, 99) };
}
console.log(`filament HAProxy agent-check — ${new Date().toISOString()}, Bun ${Bun.version}\n`);
const results: Array<Awaited<ReturnType<typeof measure>>> = [];
for (let round = 0; round < 2; round++) {
  results.push(await measure('health Check (gRPC, unix socket)', () => client.check('')));
  results.push(await measure('agent-check answer (TCP connection)', agentCheck));
}
const mean = (label: string, key: 'cpu' | 'p50' | 'p99') => {
  const xs = results.filter((r) => r.label === label).map((r) => r[key]);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
const H = 'health Check (gRPC, unix socket)';
const A = 'agent-check answer (TCP connection)';
console.log(
  `sidecar CPU per call: health Check ${(mean(H, 'cpu') * 1000).toFixed(0)} µs, agent-check ${(mean(A, 'cpu') * 1000).toFixed(0)} µs; ratio ${(mean(A, 'cpu') / mean(H, 'cpu')).toFixed(2)}`,
);
console.log(
  `client latency p50/p99: health Check ${mean(H, 'p50').toFixed(0)}/${mean(H, 'p99').toFixed(0)} µs, agent-check ${mean(A, 'p50').toFixed(0)}/${mean(A, 'p99').toFixed(0)} µs (${N} sequential calls × 2 rounds each, interleaved)`,
);

// 2. Reaction: HAProxy in front, its stats socket read every 5 ms.
const frontPort = await freePort();
const stats = join(dir, 'haproxy.stats');
const cfg = join(dir, 'haproxy.cfg');
await writeFile(
  cfg,
  [
    'global',
    `  stats socket ${stats} level admin`,
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 5s',
    '  timeout server 5s',
    'frontend fe',
    `  bind 127.0.0.1:${frontPort}`,
    '  default_backend be',
    'backend be',
    `  server s1 ${server.base.replace('http://', '')} weight 100 agent-check agent-port ${agentPort} agent-inter 500ms`,
    '',
  ].join('\n'),
);
const haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
await waitForPort(frontPort, 5000, '127.0.0.1');
const weightNow = () =>
  new Promise<number>((resolve, reject) => {
    const s = connect(stats);
    let text = '';
    s.on('data', (c) => {
      text += String(c);
    });
    s.on('error', reject);
    s.on('close', () => {
      // "show servers state": a header line, then one line per server; srv_uweight is field 8.
      const line = text.split('\n').find((l) => / s1 /.test(l));
      resolve(Number(line?.split(' ')[7]));
    });
    s.end('show servers state be\n');
  });
const times: number[] = [];
let busy = false;
for (let i = 0; i < ROUNDS; i++) {
  const before = await weightNow();
  await Bun.sleep(Math.random() * 500);
  busy = !busy;
  const t0 = performance.now();
  server.metrics = busy ? vllmMetrics(40, 64, 0.97) : vllmMetrics(0, 1, 0.1);
  for (;;) {
    const w = await weightNow();
    if (w !== before && (busy ? w < before : w > before)) break;
    if (performance.now() - t0 > 10_000) throw new Error('HAProxy never changed the weight');
    await Bun.sleep(5);
  }
  times.push(performance.now() - t0);
}
console.log(
  `load change at the model server → HAProxy weight change (agent-inter 500 ms): p50 ${percentile(times, 50).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms over ${times.length} changes`,
);
haproxy.kill('SIGTERM');
client.close();
await stop();
