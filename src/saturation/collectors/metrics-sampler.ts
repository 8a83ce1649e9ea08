import type { MetricPreset } from '../metric-presets.ts';
import { readSignals, type ScrapeReading } from '../read-signals.ts';
import { fetchText } from './fetch-text.ts';

/** A sampler that scrapes a model server's Prometheus endpoint and reads it with `preset`. */
export function metricsSampler(
  url: string,
  preset: MetricPreset,
  timeoutMs: number,
  now: () => number,
): () => Promise<ScrapeReading> {
  return async () => {
    const { status, text } = await fetchText(url, timeoutMs);
    if (status < 200 || status > 299) throw new Error(`GET ${url} answered ${status}`);
    const reading = readSignals(text, preset, now());
    if ('error' in reading) throw new Error(reading.error);
    return reading;
  };
}
