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
): () => Promise<ScrapeReading> {
  const latency = new LatencyFromTotals();
  const requests = new RateFromCounter();
  const errors = new RateFromCounter();
  return async () => {
    const { status, text } = await fetchText(url, timeoutMs);
    if (status < 200 || status > 299) throw new Error(`GET ${url} answered ${status}`);
    const at = now();
    const reading = readSignals(text, preset, at);
    if ('error' in reading) throw new Error(reading.error);
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
    sample: metricsSampler(url, preset, timeoutMs, () => clock.now()),
    intervalMs: options.intervalMs,
    clock,
    contribute: ({ value }) => ({
      signals: value?.signals ?? {},
      ...(value?.latencyTotals ? { completed: value.latencyTotals.count } : {}),
    }),
    corrections: (value) => value.corrections ?? [],
  });
}
