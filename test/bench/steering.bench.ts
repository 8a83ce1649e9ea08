/**
 * Steering simulation (not part of `npm test`): `npm run bench:steering [-- --seed N]`.
 * A deterministic discrete-event simulation (seeded; the real state machine, publish policy,
 * picker and resolver-side `Steering`) of five scenarios, each comparing round-robin, local
 * least-request, a 50 ms pull-scrape picker, and filament without and with resolver-side
 * accounting (both with the latency signal) against an oracle:
 *
 * - baseline: 16 replicas — 12 normal, 2 slow (3× service time), 2 cold for 15 s — 700 req/s
 *   over 8 independent proxies;
 * - (a) bursts: 16 normal replicas, 420 req/s with 3× the load for 2 s every 10 s;
 * - (b) the baseline's replicas and load over 16 independent resolvers, each knowing only its own
 *   requests in flight;
 * - (c) 16 normal replicas at 700 req/s, one of which accepts requests and fails each within 5 ms
 *   from 20 s to 40 s while its reports still say READY;
 * - (d) 16 normal replicas at 700 req/s, one of whose GPUs throttles to ⅓ speed at 20 s.
 *
 * Prints p50/p99, the ratio to the oracle and failed requests, and writes one chart panel per
 * scenario to dist/bench/steering-simulation.svg.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS } from '../../src/saturation/index.ts';
import { percentile } from './stats.ts';
import { type ChartRow, latencyPanels } from './steering/chart.ts';
import { type ReplicaSpec, type SimulationOptions, simulate } from './steering/model.ts';
import {
  filament,
  localLeastRequest,
  oracle,
  pullScrape,
  roundRobin,
} from './steering/policies.ts';

const seedArg = process.argv.indexOf('--seed');
const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 42;
const DURATION = 60_000;

const normal = (i: number): ReplicaSpec => ({
  name: `r${i}`,
  slots: 8,
  meanServiceMs: 100,
  readyAt: 0,
});
const baselineReplicas: ReplicaSpec[] = Array.from({ length: 16 }, (_, i) => ({
  ...normal(i),
  meanServiceMs: i >= 12 && i < 14 ? 300 : 100,
  readyAt: i >= 14 ? 15_000 : 0,
}));
const uniform = Array.from({ length: 16 }, (_, i) => normal(i));

interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly options: SimulationOptions;
}
const scenarios: Scenario[] = [
  {
    name: 'baseline',
    title: '16 replicas (2 slow ×3, 2 cold 15 s), 700 req/s, 8 proxies',
    options: { replicas: baselineReplicas, rate: 700, durationMs: DURATION, resolvers: 8, seed },
  },
  {
    name: '(a) bursts',
    title: '(a) bursts: 420 req/s, 3× for 2 s every 10 s, 8 proxies',
    options: {
      replicas: uniform,
      rate: 420,
      burst: { everyMs: 10_000, lengthMs: 2000, factor: 3 },
      durationMs: DURATION,
      resolvers: 8,
      seed,
    },
  },
  {
    name: '(b) 16 resolvers',
    title: '(b) the baseline over 16 independent resolvers',
    options: { replicas: baselineReplicas, rate: 700, durationMs: DURATION, resolvers: 16, seed },
  },
  {
    name: '(c) failing replica',
    title: '(c) one replica fails every request for 20 s, reporting READY (700 req/s)',
    options: {
      replicas: uniform.map((r, i) =>
        i === 5 ? { ...r, failing: { from: 20_000, until: 40_000, failMs: 5 } } : r,
      ),
      rate: 700,
      durationMs: DURATION,
      resolvers: 8,
      seed,
    },
  },
  {
    name: '(d) throttled GPU',
    title: '(d) one GPU throttles to 1/3 speed at 20 s (700 req/s)',
    options: {
      replicas: uniform.map((r, i) =>
        i === 9 ? { ...r, slowdown: { from: 20_000, factor: 3 } } : r,
      ),
      rate: 700,
      durationMs: DURATION,
      resolvers: 8,
      seed,
    },
  },
];

const thresholds = {
  ...DEFAULT_THRESHOLDS,
  maxQueue: 8,
  maxConcurrency: 16,
  warmupMs: 2000,
  staleAfterMs: 10_000,
  // The README's rule of thumb: 3× the healthy mean latency.
  latencyTargetMs: 300,
};
const policies = () => [
  roundRobin(),
  localLeastRequest(),
  pullScrape(50),
  filament('filament', thresholds, { accounting: false }),
  filament('filament + accounting', thresholds, { accounting: true }),
  oracle(),
];

console.log(`\nfilament steering simulation — seed ${seed}, ${DURATION / 1000} s per run\n`);
const panels: Array<{ title: string; rows: ChartRow[] }> = [];
const summary: string[] = [];
for (const scenario of scenarios) {
  const results = policies().map((policy) => {
    const { latencies, failures } = simulate(policy, scenario.options);
    return {
      name: policy.name,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      n: latencies.length,
      failures,
    };
  });
  const best = results.find((r) => r.name === 'oracle') as (typeof results)[number];
  const rr = results.find((r) => r.name === 'round-robin') as (typeof results)[number];
  console.log(scenario.title);
  console.log(
    `  ${'policy'.padEnd(24)}${'p50'.padStart(9)}${'p99'.padStart(11)}${'p99/oracle'.padStart(12)}${'served'.padStart(9)}${'failed'.padStart(8)}`,
  );
  for (const r of results)
    console.log(
      `  ${r.name.padEnd(24)}${`${r.p50.toFixed(0)} ms`.padStart(9)}${`${r.p99.toFixed(0)} ms`.padStart(11)}${`${(r.p99 / best.p99).toFixed(2)}x`.padStart(12)}${String(r.n).padStart(9)}${String(r.failures).padStart(8)}`,
    );
  const f = results.find((r) => r.name === 'filament + accounting') as (typeof results)[number];
  const checks = [
    `filament + accounting p99 ${(f.p99 / best.p99).toFixed(2)}× oracle (target ≤ 1.2×)`,
  ];
  if (rr.failures > 0)
    checks.push(
      `failed ${f.failures} = ${((100 * f.failures) / rr.failures).toFixed(1)} % of round-robin's ${rr.failures} (target ≤ 2 %)`,
    );
  console.log(`  → ${checks.join('; ')}\n`);
  summary.push(`${scenario.name}: ${checks.join('; ')}`);
  panels.push({
    title: `${scenario.title}, seed ${seed}`,
    rows: results.map((r) => ({
      name: r.name,
      p50: r.p50,
      p99: r.p99,
      ...(rr.failures > 0 ? { note: `${r.failures} failed` } : {}),
    })),
  });
}
console.log(summary.join('\n'));
const dir = join(import.meta.dir, '..', '..', 'dist', 'bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'steering-simulation.svg');
writeFileSync(file, latencyPanels(panels));
console.log(`\nchart: ${file}`);
