import type { MetricSamples, Sample } from './metrics-text.ts';

/**
 * How to read one signal out of parsed metrics; `undefined` when the server does not report it.
 * `reads` names the families it looks at, so a scrape parses only those (an extractor without it
 * makes the scrape read every family).
 */
export type Extractor = ((metrics: MetricSamples) => number | undefined) & {
  readonly reads?: readonly string[];
};

/** `extract`, labelled with the families it reads. */
function reading(
  reads: readonly string[],
  extract: (m: MetricSamples) => number | undefined,
): Extractor {
  return Object.assign(extract, { reads });
}

/**
 * The families a preset's extractors read, for a scrape that parses only those; `undefined` when
 * one of them does not say (then everything is read).
 */
export function familiesOf(preset: MetricPreset): readonly string[] | undefined {
  const extractors = [
    preset.queue,
    preset.running,
    preset.kvCache,
    preset.latency?.total,
    preset.latency?.count,
    preset.requests,
    preset.errors,
  ].filter((e): e is Extractor => e !== undefined);
  const names = new Set<string>();
  for (const e of extractors) {
    if (e.reads === undefined) return undefined;
    for (const name of e.reads) names.add(name);
  }
  return [...names];
}

/** Which metrics of a model server carry queue depth, requests in flight and KV-cache use. */
export interface MetricPreset {
  readonly name: string;
  readonly queue?: Extractor;
  readonly running?: Extractor;
  readonly kvCache?: Extractor;
  /**
   * Cumulative request latency: a total and a count whose deltas between two scrapes give the
   * mean latency of the requests finished in between; `toMs` converts the total to milliseconds.
   * The time requests spent being served (queue wait left out) where the server reports it:
   * waiting is the queue signal's to show, and counting it twice makes every replica look full
   * in a burst (the steering simulation's burst scenario: 1.2–1.4× the oracle's p99 with
   * end-to-end latency, 1.03× with served time).
   */
  readonly latency?: {
    readonly total: Extractor;
    readonly count: Extractor;
    readonly toMs: number;
  };
  /** Requests finished, cumulative (a counter): its rate is the replica's request rate. */
  readonly requests?: Extractor;
  /** Requests that failed through the server's fault, cumulative: its rate is the error rate. */
  readonly errors?: Extractor;
}

/** The sum over every series of `name` (per-model, per-engine or per-rank series add up). */
export function sumOf(name: string, where?: (labels: Sample['labels']) => boolean): Extractor {
  return reading([name], (metrics) => {
    const samples = metrics.get(name)?.filter((s) => where === undefined || where(s.labels));
    if (samples === undefined || samples.length === 0) return undefined;
    return samples.reduce((total, s) => total + s.value, 0);
  });
}

/** The largest value over every series of `name` (fractions such as cache use: the fullest wins). */
export function maxOf(name: string): Extractor {
  return reading([name], (metrics) => {
    const samples = metrics.get(name);
    if (samples === undefined || samples.length === 0) return undefined;
    let max = Number.NEGATIVE_INFINITY;
    for (const s of samples) max = Math.max(max, s.value);
    return max;
  });
}

/**
 * The sum and count of the first of `names` (histograms or summaries) the server reports, taken
 * together so they always come from the same metric.
 */
export function firstHistogram(...names: string[]): { total: Extractor; count: Extractor } {
  const chosen = (metrics: MetricSamples) =>
    names.find((n) => metrics.has(`${n}_sum`) && metrics.has(`${n}_count`));
  return {
    total: reading(names, (metrics) => {
      const name = chosen(metrics);
      return name === undefined ? undefined : sumOf(`${name}_sum`)(metrics);
    }),
    count: reading(names, (metrics) => {
      const name = chosen(metrics);
      return name === undefined ? undefined : sumOf(`${name}_count`)(metrics);
    }),
  };
}

/** The first extractor that finds something (a metric renamed between server versions). */
export function firstOf(...extractors: Extractor[]): Extractor {
  const reads = extractors.every((e) => e.reads !== undefined)
    ? extractors.flatMap((e) => e.reads as readonly string[])
    : undefined;
  const first = (metrics: MetricSamples) => {
    for (const extract of extractors) {
      const value = extract(metrics);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  return reads === undefined ? first : reading(reads, first);
}

const label = (key: string, value: string) => (labels: Sample['labels']) => labels[key] === value;

/**
 * TGI's failures the server caused: `tgi_request_failure` by `err`, leaving out `validation` (the
 * client's bad request). A series appears only once its first failure happens, so while the
 * server reports requests at all, none means zero.
 */
const tgiErrors: Extractor = reading(['tgi_request_count', 'tgi_request_failure'], (metrics) => {
  if (!metrics.has('tgi_request_count')) return undefined;
  return sumOf('tgi_request_failure', (l) => l.err !== 'validation')(metrics) ?? 0;
});

/** Triton: requests finished, successful or not. */
const tritonRequests: Extractor = reading(
  ['nv_inference_request_success', 'nv_inference_request_failure'],
  (metrics) => {
    const ok = sumOf('nv_inference_request_success')(metrics);
    const failed = sumOf('nv_inference_request_failure')(metrics);
    return ok === undefined ? undefined : ok + (failed ?? 0);
  },
);

/** Triton + TensorRT-LLM: KV-cache blocks used over the maximum. */
const tritonKvCache: Extractor = reading(['nv_trt_llm_kv_cache_block_statistics'], (metrics) => {
  const used = sumOf(
    'nv_trt_llm_kv_cache_block_statistics',
    label('kv_cache_block_type', 'used'),
  )(metrics);
  const max = sumOf(
    'nv_trt_llm_kv_cache_block_statistics',
    label('kv_cache_block_type', 'max'),
  )(metrics);
  return used === undefined || max === undefined || max <= 0 ? undefined : used / max;
});

/** The built-in presets, by the name used in config (`saturation.preset`). */
export const METRIC_PRESETS: Readonly<Record<string, MetricPreset>> = Object.freeze({
  vllm: {
    name: 'vllm',
    queue: sumOf('vllm:num_requests_waiting'),
    running: sumOf('vllm:num_requests_running'),
    // V1 engines report kv_cache_usage_perc; V0 reported gpu_cache_usage_perc.
    kvCache: firstOf(maxOf('vllm:kv_cache_usage_perc'), maxOf('vllm:gpu_cache_usage_perc')),
    // V1: time in the RUNNING phase; V0 has only end-to-end latency.
    latency: {
      ...firstHistogram('vllm:request_inference_time_seconds', 'vllm:e2e_request_latency_seconds'),
      toMs: 1000,
    },
    // One series per finished_reason; V1 has an "error" reason (V0 has none: no error rate).
    requests: sumOf('vllm:request_success_total'),
    errors: sumOf('vllm:request_success_total', label('finished_reason', 'error')),
  },
  sglang: {
    name: 'sglang',
    queue: sumOf('sglang:num_queue_reqs'),
    running: sumOf('sglang:num_running_reqs'),
    kvCache: maxOf('sglang:token_usage'),
    latency: { ...firstHistogram('sglang:e2e_request_latency_seconds'), toMs: 1000 },
    requests: sumOf('sglang:e2e_request_latency_seconds_count'),
  },
  tgi: {
    name: 'tgi',
    queue: sumOf('tgi_queue_size'),
    running: sumOf('tgi_batch_current_size'),
    latency: {
      ...firstHistogram('tgi_request_inference_duration', 'tgi_request_duration'),
      toMs: 1000,
    },
    requests: sumOf('tgi_request_count'),
    errors: tgiErrors,
  },
  triton: {
    name: 'triton',
    queue: sumOf('nv_inference_pending_request_count'),
    running: sumOf('nv_trt_llm_request_statistics', label('request_type', 'active')),
    kvCache: tritonKvCache,
    latency: {
      total: sumOf('nv_inference_request_duration_us'),
      count: sumOf('nv_inference_request_success'),
      toMs: 0.001,
    },
    requests: tritonRequests,
    errors: sumOf('nv_inference_request_failure'),
  },
});

/** A preset from config: a metric name per signal (summed for counts, maximum for cache use). */
export function genericPreset(names: {
  queue?: string;
  running?: string;
  kvCache?: string;
  requests?: string;
  errors?: string;
}): MetricPreset {
  return {
    name: 'generic',
    ...(names.queue ? { queue: sumOf(names.queue) } : {}),
    ...(names.running ? { running: sumOf(names.running) } : {}),
    ...(names.kvCache ? { kvCache: maxOf(names.kvCache) } : {}),
    ...(names.requests ? { requests: sumOf(names.requests) } : {}),
    ...(names.errors ? { errors: sumOf(names.errors) } : {}),
  };
}
