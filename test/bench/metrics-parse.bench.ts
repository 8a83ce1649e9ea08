/**
 * Reading a model server's `/metrics` (not part of `npm test`): `npm run bench:metrics-parse`.
 * The same bodies, in the same run, through:
 *  - before: parse-prometheus-text-format 1.1.1 with the histogram rewrite filament used until
 *    now (the whole body, every family);
 *  - after, all: src/exposition reading every family;
 *  - after, preset: what a scrape does now (readSignals with the vLLM preset's families only).
 * Bodies: the real vLLM V1 capture (test/fixtures/metrics), and a 5,000-series body in vLLM's
 * shape (50 models × 2 engines; the preset's gauges and histograms, plus the token histograms
 * and counters it does not read). Prints µs per parse (mean of ROUNDS after warm-up) and the
 * ratio before / after; then the strings a scrape copies out of the body as the number of skipped series
 * grows (String.prototype.slice calls, the reader's only copy of text: none per skipped line),
 * and the time a skipped line costs.
 * Target: ≥ 3× faster, no allocation per skipped family.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { parseExposition } from '../../src/exposition/index.ts';
import { METRIC_PRESETS, readSignals } from '../../src/saturation/index.ts';
import { stringCopies } from '../helpers/string-copies.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);

/** filament's reader before src/exposition (commit 5c530eb, src/saturation/metrics-text.ts). */
function before(
  text: string,
): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const untyped = text.replace(/^# TYPE (\S+) (histogram|summary)\s*$/gm, '# TYPE $1 untyped');
  const families = parsePrometheusTextFormat(untyped.endsWith('\n') ? untyped : `${untyped}\n`);
  const out = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  for (const family of families) {
    const samples: Array<{ labels: Record<string, string>; value: number }> = [];
    for (const m of family.metrics)
      if (m.value !== undefined) samples.push({ labels: m.labels ?? {}, value: Number(m.value) });
    out.set(family.name, samples);
  }
  return out;
}

/** A vLLM-shaped body: `models` × 2 engines, each with the families vLLM V1 writes most of. */
function vllmBody(models: number, extraHistograms: number): string {
  const lines: string[] = [];
  const series = (f: (labels: string) => void) => {
    for (let m = 0; m < models; m++)
      for (const engine of ['0', '1']) f(`engine="${engine}",model_name="model-${m}"`);
  };
  for (const gauge of ['num_requests_running', 'num_requests_waiting', 'kv_cache_usage_perc']) {
    lines.push(`# HELP vllm:${gauge} A gauge.`, `# TYPE vllm:${gauge} gauge`);
    series((l) => lines.push(`vllm:${gauge}{${l}} ${(Math.random() * 10).toFixed(3)}`));
  }
  lines.push(
    '# HELP vllm:request_success_total Requests.',
    '# TYPE vllm:request_success_total counter',
  );
  series((l) => {
    for (const reason of ['stop', 'length', 'abort', 'error'])
      lines.push(
        `vllm:request_success_total{${l},finished_reason="${reason}"} ${Math.floor(Math.random() * 1e6)}.0`,
      );
  });
  const histograms = ['request_inference_time_seconds', 'e2e_request_latency_seconds'];
  for (let h = 0; h < extraHistograms; h++) histograms.push(`skipped_histogram_${h}_seconds`);
  for (const h of histograms) {
    lines.push(`# HELP vllm:${h} A histogram.`, `# TYPE vllm:${h} histogram`);
    series((l) => {
      let n = 0;
      for (const le of ['0.01', '0.05', '0.1', '0.5', '1.0', '5.0', '10.0', '+Inf']) {
        n += Math.floor(Math.random() * 100);
        lines.push(`vllm:${h}_bucket{${l},le="${le}"} ${n}.0`);
      }
      lines.push(`vllm:${h}_sum{${l}} ${(n * 0.3).toFixed(4)}`, `vllm:${h}_count{${l}} ${n}.0`);
    });
  }
  return `${lines.join('\n')}\n`;
}

function timeUs(run: () => unknown): number {
  for (let i = 0; i < 30; i++) run();
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) run();
  return ((performance.now() - t0) * 1000) / ROUNDS;
}

const vllm = METRIC_PRESETS.vllm as NonNullable<(typeof METRIC_PRESETS)[string]>;
if (vllm === undefined) throw new Error('no vllm preset');
const capture = readFileSync(
  join(
    import.meta.dir,
    '..',
    'fixtures',
    'metrics',
    'vllm-v1-0.29.0-t4-qwen2.5-1.5b-inferstack.prom',
  ),
  'utf8',
);
const big = vllmBody(50, 2);
const countSamples = (text: string) =>
  text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

console.log(`metrics-parse bench: ${ROUNDS} rounds each, µs per parse`);
console.log(
  'body                          series  before   after(all)  after(preset)  before/all  before/preset',
);
for (const [name, text] of [
  ['vLLM V1 capture (real)', capture],
  ['vLLM shape, 50 models × 2', big],
] as const) {
  const old = timeUs(() => before(text));
  const all = timeUs(() => parseExposition(text));
  const preset = timeUs(() => readSignals(text, vllm, 0));
  console.log(
    `${name.padEnd(30)}${String(countSamples(text)).padStart(6)}  ${old.toFixed(1).padStart(7)}  ${all.toFixed(1).padStart(9)}  ${preset.toFixed(1).padStart(12)}  ${(old / all).toFixed(2).padStart(9)}×  ${(old / preset).toFixed(2).padStart(12)}×`,
  );
}

/**
 * Strings one preset scrape copies out of the body (`String.prototype.slice` calls, the reader's
 * only way of copying text), as the skipped series grow: what a skipped line allocates.
 */
function copies(text: string): number {
  return stringCopies(() => readSignals(text, vllm, 0));
}

console.log('\nstrings copied out of the body by one preset scrape, as skipped series grow:');
const base = vllmBody(50, 0);
const baseCopies = copies(base);
for (const extra of [4, 16]) {
  const body = vllmBody(50, extra);
  const skipped = countSamples(body) - countSamples(base);
  const n = copies(body);
  const perLine =
    timeUs(() => readSignals(body, vllm, 0)) - timeUs(() => readSignals(base, vllm, 0));
  console.log(
    `  +${String(skipped).padStart(5)} skipped series (${extra} families): ${n} copies vs ${baseCopies} → ${((n - baseCopies) / skipped).toFixed(3)} per skipped line; ${((perLine * 1000) / skipped).toFixed(0)} ns per skipped line`,
  );
}
