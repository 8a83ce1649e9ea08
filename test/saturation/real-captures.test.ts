import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_PRESETS, parseMetricsText, readSignals } from '../../src/saturation/index.ts';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dir, '..', 'fixtures', 'metrics', name), 'utf8');
const AT = 1_700_000_000_000;

/** What a preset reads from a capture, every number worked out by hand from the file. */
interface Expected {
  readonly queue: number;
  readonly running: number;
  readonly kvCache?: number;
  readonly latency: { readonly count: number; readonly totalMs: number };
  readonly counters: { readonly requests: number; readonly errors?: number };
}

const CASES: Array<[file: string, preset: string, expected: Expected]> = [
  [
    // vllm:num_requests_waiting{model_name="facebook/opt-125m"} 0.0
    // vllm:num_requests_running{model_name="facebook/opt-125m"} 0.0
    // vllm:gpu_cache_usage_perc{model_name="facebook/opt-125m"} 0.0   (V0's name)
    // V0 has no inference-time histogram: end to end,
    // vllm:e2e_request_latency_seconds_count … 1.0, _sum … 0.5034303665161133 → 503.43… ms
    // vllm:request_success_total{finished_reason="length",…} 1.0; no "error" reason in V0
    'vllm-v0-0.5-era-datadog-integrations-core.prom',
    'vllm',
    {
      queue: 0,
      running: 0,
      kvCache: 0,
      latency: { count: 1, totalMs: 0.5034303665161133 * 1000 },
      counters: { requests: 1 },
    },
  ],
  [
    // V1, engine="0": waiting 0.0, running 0.0, kv_cache_usage_perc 0.0
    // request_inference_time_seconds_count 10.0, _sum 10.171858944000064 → 10,171.85… ms
    // (time being served; the e2e histogram's 10.448… s includes queue wait)
    // request_success_total: stop 0 + length 10 + abort 0 + error 0 + repetition 0 = 10; error 0
    'vllm-v1-0.29.0-t4-qwen2.5-1.5b-inferstack.prom',
    'vllm',
    {
      queue: 0,
      running: 0,
      kvCache: 0,
      latency: { count: 10, totalMs: 10.171858944000064 * 1000 },
      counters: { requests: 10, errors: 0 },
    },
  ],
  [
    // V1, engine="0": waiting 0.0, running 0.0, kv_cache_usage_perc 0.0
    // request_inference_time_seconds_count 26.0, _sum 1826.7052117552375 → 1,826,705.21… ms
    // request_success_total: stop 26 + 0 + 0 + 0 + 0 = 26; error 0
    'vllm-v1-deepseek-v4-flash-specdecode-lmswitch.prom',
    'vllm',
    {
      queue: 0,
      running: 0,
      kvCache: 0,
      latency: { count: 26, totalMs: 1826.7052117552375 * 1000 },
      counters: { requests: 26, errors: 0 },
    },
  ],
  [
    // tgi_queue_size 0, tgi_batch_current_size 0 (TGI has no KV-cache gauge)
    // tgi_request_inference_duration_count 109, _sum 245.91743839099996 → 245,917.43… ms
    // (tgi_request_duration, 541.21… s, includes validation and queue time)
    // tgi_request_count 111; tgi_request_failure{err="validation"} 2 is the client's → 0 errors
    'tgi-datadog-integrations-core.prom',
    'tgi',
    {
      queue: 0,
      running: 0,
      latency: { count: 109, totalMs: 245.91743839099996 * 1000 },
      counters: { requests: 111, errors: 0 },
    },
  ],
  [
    // sglang:num_queue_reqs 2826, num_running_reqs 162, token_usage 0.28
    // e2e_request_latency_seconds_count 11228, _sum 3116093.850019932 → 3,116,093,850.01… ms
    'sglang-llama-3.1-8b.prom',
    'sglang',
    {
      queue: 2826,
      running: 162,
      kvCache: 0.28,
      latency: { count: 11228, totalMs: 3116093850.019932 },
      counters: { requests: 11228 },
    },
  ],
];

describe('every preset on real captures, checked against values worked out by hand', () => {
  for (const [file, preset, expected] of CASES) {
    test(`${preset}: ${file}`, () => {
      const reading = readSignals(fixture(file), METRIC_PRESETS[preset] as never, AT);
      if ('error' in reading) throw new Error(reading.error);
      expect(reading.missing).toEqual([]);
      expect(reading.signals.queue?.value).toBe(expected.queue);
      expect(reading.signals.running?.value).toBe(expected.running);
      if (expected.kvCache === undefined) expect(reading.signals.kvCache).toBeUndefined();
      else expect(reading.signals.kvCache?.value).toBeCloseTo(expected.kvCache, 12);
      expect(reading.latencyTotals?.count).toBe(expected.latency.count);
      expect(reading.latencyTotals?.totalMs).toBeCloseTo(expected.latency.totalMs, 6);
      expect(reading.counters).toEqual(expected.counters);
    });
  }

  test('scientific notation and an le="1e+06" bucket parse (the speculative-decoding capture)', () => {
    const text = fixture('vllm-v1-deepseek-v4-flash-specdecode-lmswitch.prom');
    const metrics = parseMetricsText(text);
    if ('error' in metrics) throw new Error(metrics.error);
    // vllm:prompt_tokens_total{engine="0",model_name="…"} 3.675428e+06 in the file
    const line = text.split('\n').find((l) => l.startsWith('vllm:prompt_tokens_total{'));
    expect(line).toEndWith(' 3.675428e+06');
    expect(metrics.get('vllm:prompt_tokens_total')?.[0]?.value).toBe(3_675_428);
    const buckets = metrics.get('vllm:request_prompt_tokens_bucket') ?? [];
    expect(buckets.some((b) => b.labels.le === '1e+06')).toBe(true);
  });
});
