import type { Clock } from '../../clock/index.ts';
import type { MetricPreset } from '../metric-presets.ts';
import {
  LatencyFromTotals,
  RateFromCounter,
  readSignals,
  type ScrapeReading,
} from '../read-signals.ts';
import type { Reading, Signals } from '../signals.ts';
import { fetchText } from './fetch-text.ts';
import { PeriodicCollector } from './periodic-collector.ts';

/** A sampler that scrapes a model server's Prometheus endpoint and reads it with `preset`. */
export function metricsSampler(
  url: string,
  preset: MetricPreset,
  timeoutMs: number,
  now: () => number,
  exclude?: () => ExcludedRequests,
): () => Promise<ScrapeReading> {
  const latency = new LatencyFromTotals();
  const requests = new RateFromCounter();
  const errors = new RateFromCounter();
  return async () => {
    const { status, text, format } = await fetchText(url, timeoutMs);
    if (status < 200 || status > 299) throw new Error(`GET ${url} answered ${status}`);
    const at = now();
    const read = readSignals(text, preset, at, format);
    if ('error' in read) throw new Error(read.error);
    const reading = exclude === undefined ? read : without(read, exclude());
    const derived: { -readonly [K in keyof Signals]: Reading } = {};
    const mean = latency.next(reading.latencyTotals);
    if (mean !== undefined) derived.latency = { value: mean, at };
    const requestRate = requests.next(reading.counters?.requests, at);
    if (requestRate !== undefined) derived.requestRate = { value: requestRate, at };
    const errorRate = errors.next(reading.counters?.errors, at);
    if (errorRate !== undefined) derived.errorRate = { value: errorRate, at };
    return { ...reading, signals: { ...reading.signals, ...derived } };
  };
}

/** Options for {@linkcode metricsCollector}. */
export interface MetricsCollectorOptions {
  /** The model server's Prometheus endpoint. */
  readonly url: string;
  readonly preset: MetricPreset;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Requests the sidecar sent itself (canaries), to leave out of the load signals. */
  readonly exclude?: () => ExcludedRequests;
}

/** Requests the sidecar sent the server itself: finished ones, and whether one is out now. */
export interface ExcludedRequests {
  readonly count: number;
  readonly totalMs: number;
  readonly inFlight: boolean;
}

/**
 * The `metrics` collector: scrapes the model server's `/metrics` every `intervalMs` and gives its
 * load signals (queue, running, KV cache, latency, request and error rates) and its
 * finished-request count.
 */
export function metricsCollector(
  options: MetricsCollectorOptions,
): PeriodicCollector<ScrapeReading> {
  const { url, preset, timeoutMs, clock } = options;
  return new PeriodicCollector({
    name: 'metrics',
    sample: metricsSampler(url, preset, timeoutMs, () => clock.now(), options.exclude),
    intervalMs: options.intervalMs,
    clock,
    contribute: ({ value }) => ({
      signals: value?.signals ?? {},
      ...(value?.latencyTotals ? { completed: value.latencyTotals.count } : {}),
    }),
    corrections: (value) => value.corrections ?? [],
  });
}

/**
 * `reading` with requests the sidecar sent itself (canaries: `count` of them, `totalMs` in all)
 * taken out of the finished-request count, the latency totals and the request counter, so they
 * never count as load. While one is out, the server may have counted it already and the sidecar
 * not yet: that scrape gives no totals at all (no rate or latency from it, rather than a wrong one).
 */
function without(reading: ScrapeReading, own: ExcludedRequests): ScrapeReading {
  if (own.inFlight) {
    const { latencyTotals: _l, counters: _c, ...rest } = reading;
    return rest;
  }
  if (own.count === 0) return reading;
  const { latencyTotals, counters } = reading;
  return {
    ...reading,
    ...(latencyTotals
      ? {
          latencyTotals: {
            count: Math.max(0, latencyTotals.count - own.count),
            totalMs: Math.max(0, latencyTotals.totalMs - own.totalMs),
          },
        }
      : {}),
    ...(counters?.requests !== undefined
      ? { counters: { ...counters, requests: Math.max(0, counters.requests - own.count) } }
      : {}),
  };
}
