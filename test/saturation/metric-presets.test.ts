import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  genericPreset,
  LatencyFromTotals,
  METRIC_PRESETS,
  parseMetricsText,
  RateFromCounter,
  readSignals,
} from '../../src/saturation/index.ts';

const fixture = (name: string) =>
  readFileSync(join(import.meta.dir, '..', 'fixtures', 'metrics', name), 'utf8');
const AT = 1_700_000_000_000;

describe('metric presets against captured server output', () => {
  const cases: Array<[string, string, { queue?: number; running?: number; kvCache?: number }]> = [
    ['vllm', 'vllm-v0-llama-3.1-8b.prom', { queue: 0, running: 0, kvCache: 0 }],
    ['sglang', 'sglang-llama-3.1-8b.prom', { queue: 2826, running: 162, kvCache: 0.28 }],
    ['triton', 'triton-trtllm.prom', { queue: 0, running: 0, kvCache: 1 / 6239 }],
    ['tgi', 'tgi-datadog-integrations-core.prom', { queue: 0, running: 0 }],
    [
      'vllm',
      'vllm-v1-0.29.0-t4-qwen2.5-1.5b-inferstack.prom',
      { queue: 0, running: 0, kvCache: 0 },
    ],
  ];
  for (const [preset, file, expected] of cases) {
    test(`${preset} reads ${file}`, () => {
      const reading = readSignals(fixture(file), METRIC_PRESETS[preset] as never, AT);
      if ('error' in reading) throw new Error(reading.error);
      expect(reading.missing).toEqual([]);
      for (const [name, value] of Object.entries(expected)) {
        expect(reading.signals[name as 'queue']?.value).toBeCloseTo(value, 9);
        expect(reading.signals[name as 'queue']?.at).toBe(AT);
      }
    });
  }

  test('request latency totals come from the histograms and counters in the captures', () => {
    const sglang = readSignals(
      fixture('sglang-llama-3.1-8b.prom'),
      METRIC_PRESETS.sglang as never,
      AT,
    );
    expect(sglang).toMatchObject({ latencyTotals: { count: 11228 } });
    if (!('error' in sglang))
      expect(sglang.latencyTotals?.totalMs).toBeCloseTo(3.116093850019932e9, 0);
    expect(
      readSignals(fixture('triton-trtllm.prom'), METRIC_PRESETS.triton as never, AT),
    ).toMatchObject({ latencyTotals: { totalMs: 0, count: 0 } });
  });

  test("request and error counters come from the captures, the client's faults left out", () => {
    const counters = (file: string, preset: string) => {
      const reading = readSignals(fixture(file), METRIC_PRESETS[preset] as never, AT);
      if ('error' in reading) throw new Error(reading.error);
      return reading.counters;
    };
    // TGI: 111 requests, 109 succeeded, 2 failed validation (the client's fault, not an error).
    expect(counters('tgi-datadog-integrations-core.prom', 'tgi')).toEqual({
      requests: 111,
      errors: 0,
    });
    // vLLM V1: ten finished (length), none with finished_reason="error".
    expect(counters('vllm-v1-0.29.0-t4-qwen2.5-1.5b-inferstack.prom', 'vllm')).toEqual({
      requests: 10,
      errors: 0,
    });
    // vLLM V0 has no "error" reason: no error rate rather than a made-up zero.
    expect(counters('vllm-v0-llama-3.1-8b.prom', 'vllm')).toBeUndefined();
    expect(counters('triton-trtllm.prom', 'triton')).toEqual({ requests: 0, errors: 0 });
    expect(counters('sglang-llama-3.1-8b.prom', 'sglang')).toEqual({ requests: 11228 });
    // A TGI server with generation failures counts them.
    const failing = [
      '# TYPE tgi_request_count counter',
      'tgi_request_count 20',
      '# TYPE tgi_request_failure counter',
      'tgi_request_failure{err="validation"} 3',
      'tgi_request_failure{err="generation"} 2',
      'tgi_request_failure{err="overloaded"} 1',
    ].join('\n');
    expect(readSignals(failing, METRIC_PRESETS.tgi as never, AT)).toMatchObject({
      counters: { requests: 20, errors: 3 },
    });
  });

  test('RateFromCounter gives the rate per second over its window, and starts over on a reset', () => {
    const rate = new RateFromCounter(1000);
    expect(rate.next(100, 1_000)).toBeUndefined();
    expect(rate.next(101, 1_100)).toBe(10); // as much of the window as there is
    expect(rate.next(101, 1_200)).toBe(5);
    expect(rate.next(110, 2_000)).toBe(10); // 10 over the full second
    expect(rate.next(121, 2_200)).toBe(20); // from 1_200, exactly a window back: 20 in 1 s
    expect(rate.next(5, 2_300)).toBeUndefined(); // went down: restarted
    expect(rate.next(8, 2_400)).toBe(30);
    expect(rate.next(9, 2_400)).toBeUndefined(); // no time passed
    expect(rate.next(undefined, 2_500)).toBeUndefined();
    expect(rate.next(9, 2_600)).toBeUndefined(); // the counter came back: a new start
    expect(rate.next(10, 2_700)).toBe(10);
  });

  test('LatencyFromTotals gives the mean of the requests finished between two scrapes', () => {
    const latency = new LatencyFromTotals();
    expect(latency.next({ totalMs: 1000, count: 10 })).toBeUndefined();
    expect(latency.next({ totalMs: 1600, count: 13 })).toBe(200);
    expect(latency.next({ totalMs: 1600, count: 13 })).toBeUndefined();
    expect(latency.next({ totalMs: 50, count: 1 })).toBeUndefined();
    expect(latency.next({ totalMs: 350, count: 2 })).toBe(300);
    expect(latency.next(undefined)).toBeUndefined();
  });

  test('vLLM V1 names (kv_cache_usage_perc, one series per engine) are read too', () => {
    const v1 = [
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="m"} 2.0',
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{engine="0",model_name="m"} 5.0',
      '# TYPE vllm:kv_cache_usage_perc gauge',
      'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.4',
      'vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.9',
      '',
    ].join('\n');
    const reading = readSignals(v1, METRIC_PRESETS.vllm as never, AT);
    expect(reading).toMatchObject({
      signals: { queue: { value: 5 }, running: { value: 5 }, kvCache: { value: 0.9 } },
      missing: [],
    });
  });

  test('tgi reads queue and batch size under load (the real capture, its two gauges changed in code)', () => {
    const idle = fixture('tgi-datadog-integrations-core.prom');
    const tgi = idle
      .replace(/^tgi_queue_size 0$/m, 'tgi_queue_size 6')
      .replace(/^tgi_batch_current_size 0$/m, 'tgi_batch_current_size 4');
    expect(tgi).not.toBe(idle);
    expect(readSignals(tgi, METRIC_PRESETS.tgi as never, AT)).toMatchObject({
      signals: { queue: { value: 6 }, running: { value: 4 } },
      missing: [],
    });
  });

  test('a server that does not report a signal says so, and another preset finds nothing in it', () => {
    const reading = readSignals(
      fixture('sglang-llama-3.1-8b.prom'),
      METRIC_PRESETS.vllm as never,
      AT,
    );
    expect(reading).toEqual({ signals: {}, missing: ['queue', 'running', 'kvCache'] });
  });

  test('a generic preset names its own metrics', () => {
    const reading = readSignals(
      'my_queue{shard="a"} 2\nmy_queue{shard="b"} 3\nmy_kv 0.5\nmy_done_total 40\nmy_failed_total 1\n',
      genericPreset({
        queue: 'my_queue',
        kvCache: 'my_kv',
        requests: 'my_done_total',
        errors: 'my_failed_total',
      }),
      AT,
    );
    expect(reading).toMatchObject({
      signals: { queue: { value: 5 }, kvCache: { value: 0.5 } },
      missing: [],
      counters: { requests: 40, errors: 1 },
    });
  });

  test('impossible values are bounded or dropped, and said so; the others are kept', () => {
    const text = [
      'vllm:num_requests_waiting{model_name="m"} -3',
      'vllm:num_requests_running{model_name="m"} NaN',
      'vllm:kv_cache_usage_perc{model_name="m"} 1.7',
      'vllm:e2e_request_latency_seconds_sum{model_name="m"} -1',
      'vllm:e2e_request_latency_seconds_count{model_name="m"} 4',
      'vllm:request_success_total{finished_reason="stop",model_name="m"} +Inf',
    ].join('\n');
    const reading = readSignals(text, METRIC_PRESETS.vllm as never, AT);
    if ('error' in reading) throw new Error(reading.error);
    expect(reading.signals).toEqual({ queue: { value: 0, at: AT }, kvCache: { value: 1, at: AT } });
    expect(reading.missing).toEqual([]);
    expect(reading.corrections).toEqual([
      { signal: 'queue', value: -3, became: 0 },
      { signal: 'running', value: Number.NaN, became: null },
      { signal: 'kvCache', value: 1.7, became: 1 },
    ]);
    // A negative latency sum and an infinite counter give no latency and no rate, not wrong ones.
    expect(reading.latencyTotals).toBeUndefined();
    expect(reading.counters).toBeUndefined();
  });

  test('counters that go backwards (a restart) never give a negative or huge latency', () => {
    const latency = new LatencyFromTotals();
    expect(latency.next({ totalMs: 5_000, count: 10 })).toBeUndefined();
    expect(latency.next({ totalMs: 1_000, count: 12 })).toBeUndefined(); // sum went down
    expect(latency.next({ totalMs: 1_300, count: 1 })).toBeUndefined(); // count went down
    expect(latency.next({ totalMs: 1_500, count: 3 })).toBe(100);
  });

  test('the last line counts without a newline after it (a real vLLM capture ends so)', () => {
    const samples = parseMetricsText('a 1\nb{x="1"} 2\nb{x="2"} 3');
    if ('error' in samples) throw new Error(samples.error);
    expect(samples.get('a')?.map((s) => s.value)).toEqual([1]);
    expect(samples.get('b')?.map((s) => [s.labels.x, s.value])).toEqual([
      ['1', 2],
      ['2', 3],
    ]);
  });

  test('unparseable text is an error naming the line, not an exception', () => {
    // A family the preset reads, malformed: the scrape is refused and the line quoted.
    expect(
      readSignals(
        'garbage{{{ 1\nvllm:num_requests_waiting{{ 1\n',
        METRIC_PRESETS.vllm as never,
        AT,
      ),
    ).toEqual({ error: expect.stringContaining('line 2 ("vllm:num_requests_waiting{{ 1")') });
    // A family it does not read is passed over unread (only its name is looked at), but a body
    // that is not exposition text at all is refused on its first line.
    expect(readSignals('garbage{{{ 1\n', METRIC_PRESETS.vllm as never, AT)).toMatchObject({
      missing: ['queue', 'running', 'kvCache'],
    });
    expect(readSignals('<html>502</html>\n', METRIC_PRESETS.vllm as never, AT)).toEqual({
      error: expect.stringContaining('line 1 ("<html>502</html>"): invalid metric name'),
    });
  });

  test('special values and exponents parse to numbers', () => {
    const samples = parseMetricsText('a 1.5e+06\nb NaN\nc +Inf\nd{x="q\\"uote"} -2\n');
    if ('error' in samples) throw new Error(samples.error);
    expect(samples.get('a')?.[0]?.value).toBe(1_500_000);
    expect(samples.get('b')?.[0]?.value).toBeNaN();
    expect(samples.get('c')?.[0]?.value).toBe(Number.POSITIVE_INFINITY);
    expect(samples.get('d')?.[0]?.labels.x).toBe('q"uote');
  });
});
