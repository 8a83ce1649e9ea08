/**
 * What the request-path check costs behind nginx (not part of `npm test`): `npm run bench:guard`.
 * In one run, Debian's nginx in front of the model-server stand-in three ways — without
 * auth_request; with auth_request to a bare endpoint on the same server technology (Bun's
 * node:http) that always allows; with auth_request to filament's check endpoint (the shipped
 * examples/nginx/filament.conf) — each driven by wrk at saturation (BENCH_GUARD_CONNECTIONS
 * connections, BENCH_GUARD_SECONDS each), with p50/p99 and throughput, and the check endpoint alone
 * (metadata-only checks per second over loopback TCP), and Envoy's ext_authz Check over gRPC at a
 * fixed rate (BENCH_GUARD_AUTHZ_RATE, default 2,000/s). First, in process, one check's cost with the
 * plain header reader (the baseline) and with the memo the servers use. Needs nginx, wrk and hey
 * (Debian's packages). The three nginx setups also at fixed rates (BENCH_GUARD_RATES, default
 * 1,000 and 5,000 req/s) under hey (Debian's package), each of its 50 workers held to its share.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile, unlink } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from '../../src/api/index.ts';
import { freePort } from '../../src/local-broker/index.ts';
import {
  type CheckSettings,
  checkRequest,
  type Judge,
  memoizedHeaderReader,
} from '../../src/request-check/index.ts';
import { writeObjectiveHeader } from '../../src/resolver/index.ts';
import { acmeObjective } from '../helpers/checked-host.ts';
import { startNginx } from '../helpers/nginx.ts';
import { startBenchSidecar } from './bench-sidecar.ts';
import { percentile } from './stats.ts';

const SECONDS = Number(process.env.BENCH_GUARD_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_GUARD_CONNECTIONS ?? 32);
for (const tool of ['nginx', 'wrk', 'hey'])
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench:guard needs ${tool}: apt-get install -y ${tool}`);
    process.exit(1);
  }

const checkPort = await freePort();
const bench = await startBenchSidecar('guard', ['[check]', `listen = "127.0.0.1:${checkPort}"`]);
const checkSocket = join(bench.dir, 'filament-check.sock');
await bench.sidecar.waitForLog((l) => l.msg === 'HTTP check endpoint listening', 'the check');

// The bare endpoint: the same server technology, always 200.
const bareSocket = join(bench.dir, 'bare.sock');
const bare = createServer((_req, res) => {
  res.writeHead(200, { 'content-length': 0 }).end();
});
await new Promise<void>((resolve) => bare.listen(bareSocket, () => resolve()));

const header = writeObjectiveHeader(acmeObjective());

// In process: checkRequest with a judge that always allows, plain reader vs the servers' memo.
const allow: Judge = () => ({ ok: true, ruleVersion: 1, role: 'default', payload: 'none' });
const settings: CheckSettings = {
  require: true,
  bodyField: 'filament',
  elsewhereStatus: 421,
  payloadLimits: { maxBytes: 1 << 20, maxDepth: 64 },
};
const input = { headers: { 'filament-objective': header } };
const perCheck = (read?: ReturnType<typeof memoizedHeaderReader>): number => {
  const n = 200_000;
  for (let i = 0; i < 20_000; i++) checkRequest(input, allow, settings, read);
  const start = performance.now();
  for (let i = 0; i < n; i++) checkRequest(input, allow, settings, read);
  return ((performance.now() - start) * 1000) / n;
};
const plainUs = perCheck();
const memoUs = perCheck(memoizedHeaderReader());
console.log(
  `in process, one check: plain header reader ${plainUs.toFixed(2)} µs, memo ${memoUs.toFixed(2)} µs (${(plainUs / memoUs).toFixed(1)}× faster)`,
);
const example = (
  await readFile(join(import.meta.dir, '..', '..', 'examples', 'nginx', 'filament.conf'), 'utf8')
)
  .replace('server 127.0.0.1:8000;', `server ${bench.server.base.replace('http://', '')};`)
  .replace('unix:/run/filament/filament-check.sock', `unix:${checkSocket}`);
const [plain, viaBare, viaFilament] = [await freePort(), await freePort(), await freePort()];
const filamentServer = example.slice(example.search(/^server \{/m));
const conf = [
  example.replace('listen 8080;', `listen 127.0.0.1:${viaFilament};`),
  // The same server block asking the bare endpoint.
  `upstream bare_check { server unix:${bareSocket}; keepalive 16; }`,
  filamentServer
    .replace('listen 8080;', `listen 127.0.0.1:${viaBare};`)
    .replace(
      'proxy_pass http://filament_check/v1/check;',
      'proxy_pass http://bare_check/v1/check;',
    ),
  `server { listen 127.0.0.1:${plain}; location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://model_server; } }`,
].join('\n');
const nginx = await startNginx(join(bench.dir, 'nginx'), viaFilament, conf);

/** What a load tool printed, once it has exited (it runs without blocking this process). */
async function finished(child: ReturnType<typeof spawn>): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    err += c;
  });
  await new Promise((resolve) => child.once('exit', resolve));
  return { out, err };
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

/**
 * wrk at saturation against `url`, sending the Filament-Objective header; latencies in ms. Run
 * without blocking: the stand-in and the bare endpoint answer from this process.
 */
async function wrk(url: string): Promise<WrkResult> {
  const child = spawn(
    'wrk',
    [
      '-t1',
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      '--latency',
      '-H',
      `Filament-Objective: ${header}`,
      url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { out, err } = await finished(child);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    if (!m) throw new Error(`wrk gave no ${label}%: ${out}${err}`);
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms('50'),
    p99: ms('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

const RATES = (process.env.BENCH_GUARD_RATES ?? '1000,5000').split(',').map(Number);
const WORKERS = 50;

/** hey holding `rate` req/s in total against `url` for SECONDS; latencies in ms. */
async function hey(url: string, rate: number): Promise<WrkResult> {
  const child = spawn(
    'hey',
    [
      '-z',
      `${SECONDS}s`,
      '-c',
      String(WORKERS),
      '-q',
      String(rate / WORKERS),
      '-H',
      `Filament-Objective: ${header}`,
      url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { out: stdout, err } = await finished(child);
  const out = stdout + err;
  const ms = (label: string) => {
    const m = new RegExp(`^\\s+${label}% in ([\\d.]+) secs`, 'm').exec(out);
    if (!m) throw new Error(`hey gave no ${label}%: ${out}`);
    return Number(m[1]) * 1000;
  };
  let non2xx = 0;
  for (const [, code, n] of out.matchAll(/^\s+\[(\d+)\]\s+(\d+) responses/gm))
    if (!String(code).startsWith('2')) non2xx += Number(n);
  for (const [, n] of out.matchAll(/^\s+\[(\d+)\]\s+(?:Get|Post)/gm)) non2xx += Number(n);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms('50'),
    p99: ms('99'),
    non2xx,
  };
}

const rows: Array<[string, WrkResult]> = [];
rows.push(['nginx → stand-in, no auth_request', await wrk(`http://127.0.0.1:${plain}/x`)]);
rows.push(['auth_request → bare endpoint', await wrk(`http://127.0.0.1:${viaBare}/x`)]);
rows.push(['auth_request → filament', await wrk(`http://127.0.0.1:${viaFilament}/x`)]);
rows.push([
  'filament check endpoint alone (TCP)',
  await wrk(`http://127.0.0.1:${checkPort}/v1/check`),
]);

console.log(`\n${CONNECTIONS} connections, ${SECONDS} s each, wrk -t1 (saturation)\n`);
console.log('setup                                   req/s      p50 ms   p99 ms   non-2xx');
for (const [label, r] of rows)
  console.log(
    `${label.padEnd(38)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(3).padStart(9)} ${r.p99.toFixed(3).padStart(8)} ${String(r.non2xx).padStart(9)}`,
  );
const [, b] = rows[1] as [string, WrkResult];
const [, f] = rows[2] as [string, WrkResult];
console.log(
  `\nfilament vs the bare endpoint: p50 ${(f.p50 / b.p50).toFixed(2)}× (target ≤ 1.15), p99 ${(f.p99 / b.p99).toFixed(2)}× (target ≤ 1.3), throughput ${(f.rps / b.rps).toFixed(2)}×`,
);

// ext_authz over gRPC at a fixed rate (an open loop: one call every 1/RATE s, whatever the
// answers), as Envoy asks: p50/p99 of Check on the API socket.
for (const rate of RATES) {
  const fixed: Array<[string, WrkResult]> = [];
  fixed.push(['nginx → stand-in, no auth_request', await hey(`http://127.0.0.1:${plain}/x`, rate)]);
  fixed.push(['auth_request → bare endpoint', await hey(`http://127.0.0.1:${viaBare}/x`, rate)]);
  fixed.push(['auth_request → filament', await hey(`http://127.0.0.1:${viaFilament}/x`, rate)]);
  console.log(`\n${rate} req/s for ${SECONDS} s each, hey -c ${WORKERS} (fixed rate)\n`);
  for (const [label, r] of fixed)
    console.log(
      `${label.padEnd(38)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(3).padStart(9)} ${r.p99.toFixed(3).padStart(8)} ${String(r.non2xx).padStart(9)}`,
    );
  const [, fb] = fixed[1] as [string, WrkResult];
  const [, ff] = fixed[2] as [string, WrkResult];
  console.log(
    `filament vs the bare endpoint at ${rate} req/s: p50 ${(ff.p50 / fb.p50).toFixed(2)}× (target ≤ 1.15), p99 ${(ff.p99 / fb.p99).toFixed(2)}× (target ≤ 1.3)`,
  );
}

const RATE = Number(process.env.BENCH_GUARD_AUTHZ_RATE ?? 2000);
const Authorization = clientConstructor('envoy.service.auth.v3.Authorization');
const authz = new Authorization(`unix:${bench.socket}`, grpc.credentials.createInsecure());
const request = {
  attributes: {
    request: { http: { headers: [{ key: 'filament-objective', value: header }] } },
  },
};
const call = () =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now();
    (
      authz as unknown as Record<string, (r: object, cb: (e: Error | null) => void) => void>
    ).Check?.(request, (error) => (error ? reject(error) : resolve(performance.now() - started)));
  });
for (let i = 0; i < 500; i++) await call();
const latencies: number[] = [];
const pending: Promise<void>[] = [];
const begin = performance.now();
for (let i = 0; i < RATE * SECONDS; i++) {
  const due = begin + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  pending.push(call().then((ms) => void latencies.push(ms)));
}
await Promise.all(pending);
const achieved = (latencies.length * 1000) / (performance.now() - begin);
console.log(
  `\next_authz Check at ${RATE} req/s for ${SECONDS} s (achieved ${achieved.toFixed(0)}): p50 ${percentile(latencies, 50).toFixed(3)} ms, p99 ${percentile(latencies, 99).toFixed(3)} ms (target p99 ≤ 2 ms)`,
);
authz.close();

await nginx.stop();
await new Promise<void>((resolve) => bare.close(() => resolve()));
await unlink(bareSocket).catch(() => {});
await bench.stop();
process.exit(0);
