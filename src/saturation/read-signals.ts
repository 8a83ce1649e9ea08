import type { MetricPreset } from './metric-presets.ts';
import { parseMetricsText } from './metrics-text.ts';
import type { Signals } from './signals.ts';

/** Signals read from one scrape, and which of the preset's signals the text did not contain. */
export interface ScrapeReading {
  readonly signals: Signals;
  /** Signals the preset knows but the server did not report (e.g. a renamed metric). */
  readonly missing: ReadonlyArray<'queue' | 'running' | 'kvCache'>;
}

/**
 * Reads queue depth, requests in flight and KV-cache use from a model server's metrics text with
 * a preset, stamping each reading with `at`. `{ error }` when the text does not parse.
 */
export function readSignals(
  text: string,
  preset: MetricPreset,
  at: number,
): ScrapeReading | { error: string } {
  const metrics = parseMetricsText(text);
  if ('error' in metrics) return metrics;
  const signals: { -readonly [K in keyof Signals]: Signals[K] } = {};
  const missing: Array<'queue' | 'running' | 'kvCache'> = [];
  for (const name of ['queue', 'running', 'kvCache'] as const) {
    const extract = preset[name];
    if (extract === undefined) continue;
    const value = extract(metrics);
    if (value === undefined || Number.isNaN(value)) missing.push(name);
    else signals[name] = { value, at };
  }
  return { signals, missing };
}
