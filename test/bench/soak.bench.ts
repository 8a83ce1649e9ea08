/**
 * Soak run (not part of `npm test`): `bun test/bench/soak.bench.ts` — 30 minutes by default,
 * `SOAK_MINUTES=5` for a shorter one. The compiled binary serves its unix socket next to a
 * private mosquitto; this process sends validations at a steady rate (`SOAK_RATE`, default 2000/s,
 * 32 in flight at most) and publishes a new rule-set version every 2 s. RSS and CPU of the
 * sidecar are sampled every 10 s. Printed: RSS after the first two minutes (warm-up) and at the
 * end, the growth between them (target ≤ 5 %), the peak, mean CPU, and the work done.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { buildBinary } from '../helpers/build-binary.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const RATE = Number(process.env.SOAK_RATE ?? 2000);

const dir = await tempDir('filament-soak-');
const binary = join(dir.path, 'filament');
buildBinary(binary);

const broker = await startMosquitto();
const socket = join(dir.path, 'api.sock');
const config = join(dir.path, 'filament.toml');
await writeFile(
  config,
  `[api]\nsocket = "${socket}"\n[log]\nlevel = "warn"\n[saturation]\nnvidia_smi = "off"\n[[models]]\nid = "llama"\nversion = "2026-10-01"\n`,
);
let version = 1;
const publish = () =>
  publishOnce({
    url: broker.url,
    topic: rulesTopic('filament/v1', 'acme'),
    payload: jsonBytes(validationRuleSet(version)),
  });
await publish();
const sidecar = startSidecarProcess(
  sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: dir.path }),
  {},
  { path: binary, cwd: dir.path },
);
const client = grpcClients(`unix:${socket}`);
// Resolvers name the rule version they decided with: follow the one being published.
const request = () => ({ config: { ...VALID_CONFIG_MESSAGE, rule_version: version } });
for (let i = 0; ; i++) {
  try {
    if ((await client.validate(request())).ok) break;
  } catch {}
  if (i > 500) throw new Error('the sidecar never became ready');
  await Bun.sleep(20);
}

const pid = sidecar.pid;
const rssMb = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const cpuTicks = () => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
};
const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

let validations = 0;
/** Verdicts that were not ok (e.g. a version the sidecar has not applied yet). */
let refused = 0;
/** RPCs that failed, and publishes that failed. */
let failures = 0;
let inFlight = 0;
const started = performance.now();
const endAt = started + MINUTES * 60_000;
const samples: Array<{ atS: number; rss: number }> = [];
const ticks0 = cpuTicks();

// Steady validations: each 10 ms tick sends RATE/100 calls (never more than 32 waiting).
const load = setInterval(() => {
  for (let i = 0; i < RATE / 100 && inFlight < 32; i++) {
    inFlight++;
    client.validate(request()).then(
      (v) => {
        inFlight--;
        if (v.ok) validations++;
        else refused++;
      },
      () => {
        inFlight--;
        failures++;
      },
    );
  }
}, 10);
const rules = setInterval(() => {
  version++;
  void publish().catch(() => failures++);
}, 2000);
const sampler = setInterval(() => {
  samples.push({ atS: (performance.now() - started) / 1000, rss: rssMb() });
  const last = samples.at(-1);
  if (samples.length % 18 === 0 && last)
    console.log(
      `${last.atS.toFixed(0)} s: RSS ${last.rss.toFixed(1)} MB, ${validations} validations`,
    );
}, 10_000);

await Bun.sleep(endAt - performance.now());
clearInterval(load);
clearInterval(rules);
clearInterval(sampler);
const cpuPercent = (100 * (cpuTicks() - ticks0)) / hz / (MINUTES * 60);
const applied = ((await client.getConfig()).tenants as Array<{ active_version: number }>)[0]
  ?.active_version;
client.close();
await sidecar.kill('SIGTERM');
await broker.stop();
await dir.remove();

const warmS = Math.min(120, MINUTES * 60 * 0.2);
const steady = samples.filter((s) => s.atS >= warmS);
const warm = steady[0];
const end = steady.at(-1);
if (!warm || !end || steady.length < 3) throw new Error('too few samples');
const growth = ((end.rss - warm.rss) / warm.rss) * 100;
// RSS moves a few percent up and down with the allocator's scavenging, so two single samples
// overstate or hide growth: also compare the means of the first and last thirds, and fit a line.
const third = Math.max(1, Math.floor(steady.length / 3));
const mean = (xs: typeof steady) => xs.reduce((sum, x) => sum + x.rss, 0) / xs.length;
const [early, late] = [mean(steady.slice(0, third)), mean(steady.slice(-third))];
const mx = steady.reduce((sum, x) => sum + x.atS, 0) / steady.length;
const my = mean(steady);
const slope =
  steady.reduce((sum, x) => sum + (x.atS - mx) * (x.rss - my), 0) /
  steady.reduce((sum, x) => sum + (x.atS - mx) ** 2, 0);
console.log(
  `soak — ${new Date().toISOString()}, ${MINUTES} min, compiled binary, Bun ${Bun.version}`,
);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
console.log(
  `RSS after warm-up (${warm.atS.toFixed(0)} s) ${warm.rss.toFixed(1)} MB → end ${end.rss.toFixed(1)} MB: ${signed(growth)} %; mean of the first third ${early.toFixed(1)} MB → last third ${late.toFixed(1)} MB: ${signed(((late - early) / early) * 100)} % (target ≤ 5 %); trend ${signed(slope * 3600)} MB/hour; range ${Math.min(...steady.map((s) => s.rss)).toFixed(1)}–${Math.max(...steady.map((s) => s.rss)).toFixed(1)} MB`,
);
console.log(
  `CPU ${cpuPercent.toFixed(1)} % of one core; ${validations} validations (${(validations / (MINUTES * 60)).toFixed(0)}/s) ok, ${refused} refused (version just published, not applied yet), ${failures} failed RPCs or publishes; rule versions published ${version}, active at the end v${applied}`,
);
