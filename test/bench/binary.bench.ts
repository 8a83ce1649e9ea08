/**
 * Compiled-binary benchmark (not part of `npm test`): `bun test/bench/binary.bench.ts`.
 * Builds the binary, then measures what an operator feels on a host:
 * - size of the executable;
 * - exec → SERVING from last-known-good rules with the broker down (target ≤ 100 ms), against
 *   exec → exit of `filament version` (the runtime's own start) in the same run;
 * - resident memory and CPU after idling `BENCH_IDLE_SECONDS` (default 60; target ≤ 64 MB),
 *   against a bare Bun process idling alongside.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { buildBinary } from '../helpers/build-binary.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { ms, percentile } from './stats.ts';

const ROUNDS = 15;
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const dir = await tempDir('filament-binary-bench-');
const binary = join(dir.path, 'filament');
const executable = { path: binary, cwd: dir.path };

buildBinary(binary);
console.log(`binary size: ${(statSync(binary).size / 1e6).toFixed(1)} MB (${process.arch})`);

const socket = join(dir.path, 'api.sock');
const config = join(dir.path, 'filament.toml');
await writeFile(config, `[api]\nsocket = "${socket}"\n[saturation]\nnvidia_smi = "off"\n`);
const stateDir = join(dir.path, 'state');

// Last-known-good rules on disk, from one run against a live broker.
let broker = await startMosquitto();
const args = () =>
  sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', replica: 'bench', stateDir });
{
  const first = startSidecarProcess(args(), {}, executable);
  await publishOnce({
    url: broker.url,
    topic: rulesTopic('filament/v1', 'acme'),
    payload: jsonBytes(ruleSet('acme', 1)),
  });
  await first.waitForLog((l) => l.msg === 'applied rule set', 'the rules');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await first.kill('SIGTERM');
}
await broker.stop();

/** ms until what `start` returns has resolved. */
async function timed(start: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await start();
  return performance.now() - t0;
}

const baseline: number[] = [];
const serving: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  baseline.push(
    await timed(
      () =>
        new Promise((resolve) =>
          spawn(binary, ['version'], { stdio: 'ignore', cwd: dir.path }).once('exit', resolve),
        ),
    ),
  );
  let sidecar: ReturnType<typeof startSidecarProcess> | undefined;
  serving.push(
    await timed(async () => {
      sidecar = startSidecarProcess(args(), {}, executable);
      await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'start-up', 10_000);
    }),
  );
  // Confirm what the timing claims: SERVING from disk alone, the broker being down.
  const client = grpcClients(`unix:${socket}`);
  const health = await client.check('');
  client.close();
  if (health.status !== 'SERVING') throw new Error(`round ${round}: ${health.status}, not SERVING`);
  await sidecar?.kill('SIGTERM');
}
const p50 = (v: number[]) => percentile(v, 50);
console.log(
  `exec → SERVING from last-known-good, broker down: p50 ${ms(p50(serving))}, p90 ${ms(percentile(serving, 90))} (target ≤ 100 ms)`,
);
console.log(
  `exec → exit of \`filament version\` (runtime start): p50 ${ms(p50(baseline))}; ratio ${(p50(serving) / p50(baseline)).toFixed(2)}×`,
);

// Idle footprint, broker up, next to a bare Bun process idling for the same time.
broker = await startMosquitto();
const idle = startSidecarProcess(args(), {}, executable);
await idle.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
};
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const ticksBefore = cpuTicks(idle.pid);
await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
const ticks = cpuTicks(idle.pid) - ticksBefore;
const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const idleRss = rssMb(idle.pid);
const bareRss = rssMb(bare.pid ?? 0);
console.log(
  `after ${IDLE_SECONDS} s idle: RSS ${idleRss.toFixed(1)} MB (target ≤ 64 MB); bare Bun ${bareRss.toFixed(1)} MB; ratio ${(idleRss / bareRss).toFixed(2)}×`,
);
console.log(
  `idle CPU: ${((100 * ticks) / hz / IDLE_SECONDS).toFixed(2)} % of one core over ${IDLE_SECONDS} s`,
);
bare.kill();
await idle.kill('SIGTERM');
await broker.stop();
await dir.remove();
