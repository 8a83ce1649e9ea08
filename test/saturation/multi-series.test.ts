import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_PRESETS, parseMetricsText, readSignals } from '../../src/saturation/index.ts';

const AT = 1_700_000_000_000;
const fixture = (name: string) =>
  readFileSync(join(import.meta.dir, '..', 'fixtures', 'metrics', name), 'utf8');

function read(text: string, preset: 'vllm' | 'sglang' | 'tgi' | 'triton') {
  const reading = readSignals(text, METRIC_PRESETS[preset] as never, AT);
  if ('error' in reading) throw new Error(reading.error);
  return reading;
}

/** vLLM V1 with data parallel 2, as prometheus_client writes it: one series per engine. */
const VLLM_DP2 = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 5.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 2.0
vllm:num_requests_waiting{engine="1",model_name="m"} 7.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.9
# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} 200.0
vllm:request_success_total{engine="0",finished_reason="error",model_name="m"} 8.0
vllm:request_success_total{engine="1",finished_reason="stop",model_name="m"} 100.0
vllm:request_success_total{engine="1",finished_reason="error",model_name="m"} 8.0
# HELP vllm:request_inference_time_seconds Histogram of time spent in RUNNING phase for request.
# TYPE vllm:request_inference_time_seconds histogram
vllm:request_inference_time_seconds_sum{engine="0",model_name="m"} 80.0
vllm:request_inference_time_seconds_bucket{engine="0",le="1.0",model_name="m"} 100.0
vllm:request_inference_time_seconds_bucket{engine="0",le="+Inf",model_name="m"} 208.0
vllm:request_inference_time_seconds_count{engine="0",model_name="m"} 208.0
vllm:request_inference_time_seconds_sum{engine="1",model_name="m"} 50.0
vllm:request_inference_time_seconds_bucket{engine="1",le="1.0",model_name="m"} 50.0
vllm:request_inference_time_seconds_bucket{engine="1",le="+Inf",model_name="m"} 108.0
vllm:request_inference_time_seconds_count{engine="1",model_name="m"} 108.0
`;

describe('several series of one family are combined the way each signal needs', () => {
  test('vLLM data parallel 2: queues and counters add up, latency over both engines, the fullest cache', () => {
    const r = read(VLLM_DP2, 'vllm');
    expect(r.signals.queue?.value).toBe(9);
    expect(r.signals.running?.value).toBe(8);
    // The fullest engine: a request sent to the replica may land on it (a mean would say 0.575).
    expect(r.signals.kvCache?.value).toBe(0.9);
    // Was 80 and 208 (engine 0 only) with the old reader.
    expect(r.latencyTotals).toEqual({ totalMs: 130_000, count: 316 });
    expect(r.counters).toEqual({ requests: 316, errors: 16 });
  });

  test('SGLang with two ranks: the request counter is both ranks (was 60 of 100)', () => {
    const text = `# HELP sglang:e2e_request_latency_seconds Histogram of End-to-end request latency in seconds
# TYPE sglang:e2e_request_latency_seconds histogram
sglang:e2e_request_latency_seconds_sum{dp_rank="0",model_name="m"} 30.0
sglang:e2e_request_latency_seconds_bucket{dp_rank="0",le="+Inf",model_name="m"} 60.0
sglang:e2e_request_latency_seconds_count{dp_rank="0",model_name="m"} 60.0
sglang:e2e_request_latency_seconds_sum{dp_rank="1",model_name="m"} 20.0
sglang:e2e_request_latency_seconds_bucket{dp_rank="1",le="+Inf",model_name="m"} 40.0
sglang:e2e_request_latency_seconds_count{dp_rank="1",model_name="m"} 40.0
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{dp_rank="0",model_name="m"} 4.0
sglang:num_queue_reqs{dp_rank="1",model_name="m"} 6.0
`;
    const r = read(text, 'sglang');
    expect(r.counters).toEqual({ requests: 100 });
    expect(r.latencyTotals).toEqual({ totalMs: 50_000, count: 100 });
    expect(r.signals.queue?.value).toBe(10);
  });

  test('a real vLLM V1 capture with a second engine added in code reads twice the first', () => {
    // The capture has engine="0" only; each engine="0" line is written again as engine="1"
    // (built here from the capture's own lines, which stay as captured).
    const capture = fixture('vllm-v1-0.29.0-t4-qwen2.5-1.5b-inferstack.prom');
    const two = capture
      .split('\n')
      .flatMap((line) =>
        line.includes('engine="0"') ? [line, line.replace('engine="0"', 'engine="1"')] : [line],
      )
      .join('\n');
    const one = read(capture, 'vllm');
    const both = read(two, 'vllm');
    expect(one.latencyTotals?.count).toBeGreaterThan(0);
    expect(both.latencyTotals?.count).toBe(2 * (one.latencyTotals?.count ?? Number.NaN));
    expect(both.latencyTotals?.totalMs).toBeCloseTo(
      2 * (one.latencyTotals?.totalMs ?? Number.NaN),
      6,
    );
    expect(both.counters?.requests).toBe(2 * (one.counters?.requests ?? Number.NaN));
    expect(both.signals.kvCache?.value).toBe(one.signals.kvCache?.value as number);
  });
});

describe('valid exposition text that used to fail the whole scrape is read', () => {
  const cases: Array<[string, string, number]> = [
    [
      'a space after the comma between labels',
      'vllm:num_requests_waiting{engine="0", model_name="m"} 4\n',
      4,
    ],
    [
      'blanks around names, values and a trailing comma',
      'vllm:num_requests_waiting{ engine = "0" , } 5\n',
      5,
    ],
    [
      'two spaces in a TYPE line',
      '# TYPE vllm:num_requests_waiting  gauge\nvllm:num_requests_waiting 6\n',
      6,
    ],
    [
      'an upper-case type',
      '# TYPE vllm:num_requests_waiting GAUGE\nvllm:num_requests_waiting 7\n',
      7,
    ],
  ];
  for (const [name, text, queue] of cases)
    test(name, () => {
      expect(read(text, 'vllm').signals.queue?.value).toBe(queue);
    });

  test('an upper-case HISTOGRAM keeps its series together', () => {
    const text = VLLM_DP2.replace(
      'request_inference_time_seconds histogram',
      'request_inference_time_seconds HISTOGRAM',
    );
    expect(read(text, 'vllm').latencyTotals).toEqual({ totalMs: 130_000, count: 316 });
  });
});

describe('invalid exposition text is refused, not read as data', () => {
  const refused: Array<[string, string, string]> = [
    [
      'a sample with no value (was queue 0)',
      'vllm:num_requests_waiting\n',
      'expected float as value',
    ],
    ['a hex value', 'vllm:num_requests_waiting 0x1\n', 'expected float as value'],
    ['a binary value', 'vllm:num_requests_waiting 0b1\n', 'expected float as value'],
    [
      'an unescaped newline in a label value',
      'vllm:num_requests_waiting{model_name="a\nb"} 1\n',
      'contains unescaped new-line',
    ],
    [
      'a negative histogram count',
      '# TYPE vllm:request_inference_time_seconds histogram\nvllm:request_inference_time_seconds_count -3\n',
      'negative count for histogram',
    ],
    [
      'a negative bucket',
      '# TYPE vllm:request_inference_time_seconds histogram\nvllm:request_inference_time_seconds_bucket{le="+Inf"} -3\n',
      'negative bucket population',
    ],
  ];
  for (const [name, text, message] of refused)
    test(name, () => {
      expect(readSignals(text, METRIC_PRESETS.vllm as never, AT)).toEqual({
        error: expect.stringContaining(message),
      });
    });

  test('Inf and -inf are infinities, not NaN (then dropped as no signal, with a correction)', () => {
    const samples = parseMetricsText('a Inf\nb -inf\nc +Infinity\n');
    if ('error' in samples) throw new Error(samples.error);
    expect(
      [samples.get('a'), samples.get('b'), samples.get('c')].map((s) => s?.[0]?.value),
    ).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
    const r = read('vllm:num_requests_waiting Inf\n', 'vllm');
    expect(r.signals.queue).toBeUndefined();
    expect(r.corrections).toEqual([
      { signal: 'queue', value: Number.POSITIVE_INFINITY, became: null },
    ]);
  });

  test('a #comment without a space is a comment, not a metric', () => {
    const samples = parseMetricsText('#vllm:num_requests_waiting 5\nvllm:num_requests_running 1\n');
    if ('error' in samples) throw new Error(samples.error);
    expect([...samples.keys()]).toEqual(['vllm:num_requests_running']);
  });
});
