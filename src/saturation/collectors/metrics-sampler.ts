import type { MetricPreset } from '../metric-presets.ts';
import { LatencyFromTotals, readSignals, type ScrapeReading } from '../read-signals.ts';
import { fetchText } from './fetch-text.ts';

/** A sampler that scrapes a model server's Prometheus endpoint and reads it with `preset`. */
export function metricsSampler(
  url: string,
  preset: MetricPreset,
  timeoutMs: number,
  now: () => number,
): () => Promise<ScrapeReading> {
  const latency = new LatencyFromTotals();
  return async () => {
    const { status, text } = await fetchText(url, timeoutMs);
    if (status < 200 || status > 299) throw new Error(`GET ${url} answered ${status}`);
    const at = now();
    const reading = readSignals(text, preset, at);
    if ('error' in reading) throw new Error(reading.error);
    const mean = latency.next(reading.latencyTotals);
    return mean === undefined
      ? reading
      : { ...reading, signals: { ...reading.signals, latency: { value: mean, at } } };
  };
}
