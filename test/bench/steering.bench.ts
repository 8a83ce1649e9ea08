/**
 * Steering simulation (not part of `npm test`): `bun test/bench/steering.bench.ts [--seed N]`.
 * A deterministic discrete-event simulation of 16 replicas — 12 normal, 2 slow (3× service
 * time), 2 cold (model not loaded for the first 15 s) — fed by 8 independent proxies at ~60–70 %
 * of capacity, comparing round-robin, random, local least-request, a 50 ms pull-scrape picker and
 * filament's push reports (the real state machine, publish policy and picker; with and without
 * the latency signal) against an oracle.
 * Prints p50/p99 and the ratio to the oracle, and writes an SVG chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS } from '../../src/saturation/index.ts';
import { percentile } from './stats.ts';
import { latencyChart } from './steering/chart.ts';
import { type ReplicaSpec, simulate } from './steering/model.ts';
import {
  filament,
  localLeastRequest,
  oracle,
  pullScrape,
  random,
  roundRobin,
} from './steering/policies.ts';

const seedArg = process.argv.indexOf('--seed');
const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 42;
const replicas: ReplicaSpec[] = Array.from({ length: 16 }, (_, i) => ({
  name: `r${i}`,
  slots: 8,
  meanServiceMs: i >= 12 && i < 14 ? 300 : 100,
  readyAt: i >= 14 ? 15_000 : 0,
}));
const options = { replicas, rate: 700, durationMs: 60_000, resolvers: 8, seed };
const thresholds = {
  ...DEFAULT_THRESHOLDS,
  maxQueue: 8,
  maxConcurrency: 16,
  warmupMs: 2000,
  staleAfterMs: 10_000,
};

// filament twice: scoring load alone, and with latency counted against a target of 3× the
// healthy mean (the README's rule of thumb), which is what makes slow replicas visible.
const policies = [
  roundRobin(),
  random(),
  localLeastRequest(),
  pullScrape(50),
  filament('filament (load)', thresholds),
  filament('filament (+latency)', { ...thresholds, latencyTargetMs: 300 }),
  oracle(),
];
const results = policies.map((policy) => {
  const t0 = performance.now();
  const latencies = simulate(policy, options);
  return {
    name: policy.name,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    n: latencies.length,
    ms: performance.now() - t0,
  };
});
const best = results.find((r) => r.name === 'oracle') as (typeof results)[number];

console.log(
  `\nfilament steering simulation — seed ${seed}, 16 replicas (2 slow ×3, 2 cold for 15 s), ${options.rate} req/s for ${options.durationMs / 1000} s, ${options.resolvers} proxies\n`,
);
console.log(
  `${'policy'.padEnd(26)}${'p50'.padStart(10)}${'p99'.padStart(12)}${'p99 / oracle'.padStart(15)}${'requests'.padStart(11)}`,
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(26)}${`${r.p50.toFixed(0)} ms`.padStart(10)}${`${r.p99.toFixed(0)} ms`.padStart(12)}${`${(r.p99 / best.p99).toFixed(2)}x`.padStart(15)}${String(r.n).padStart(11)}`,
  );
}
console.log('\ntargets: filament p99 ≤ 1.3× oracle; round-robin expected ≥ 5×');
console.log(
  '(filament (+latency) sets saturation.latency_target_ms to 3× the healthy mean latency)',
);
const dir = join(import.meta.dir, '..', '..', 'dist', 'bench');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'steering-simulation.svg');
writeFileSync(
  file,
  latencyChart(
    results,
    `Request latency by routing policy (seed ${seed}; 16 replicas, 2 slow, 2 cold)`,
  ),
);
console.log(`chart: ${file}`);
