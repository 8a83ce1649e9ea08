import type { MetricPreset } from './metric-presets.ts';
import { parseMetricsText } from './metrics-text.ts';
import type { Signals } from './signals.ts';

/** Signals read from one scrape, and which of the preset's signals the text did not contain. */
export interface ScrapeReading {
  readonly signals: Signals;
  /** Signals the preset knows but the server did not report (e.g. a renamed metric). */
  readonly missing: ReadonlyArray<'queue' | 'running' | 'kvCache'>;
  /** Cumulative latency (ms) and request count, when the preset and the server have them. */
  readonly latencyTotals?: { readonly totalMs: number; readonly count: number };
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
  const l = preset.latency;
  const total = l?.total(metrics);
  const count = l?.count(metrics);
  if (l === undefined || total === undefined || count === undefined) return { signals, missing };
  return { signals, missing, latencyTotals: { totalMs: total * l.toMs, count } };
}

/**
 * Turns cumulative latency totals from successive scrapes into a mean latency signal: the mean of
 * the requests finished since the previous scrape. No requests finished → no latency (no data);
 * totals that went down (the server restarted) start over.
 */
export class LatencyFromTotals {
  private previous: { totalMs: number; count: number } | null = null;

  /** The mean latency (ms) since the last call, or `undefined`. */
  next(totals: { totalMs: number; count: number } | undefined): number | undefined {
    if (totals === undefined) return undefined;
    const previous = this.previous;
    this.previous = totals;
    if (previous === null || totals.count < previous.count || totals.totalMs < previous.totalMs)
      return undefined;
    const finished = totals.count - previous.count;
    return finished > 0 ? (totals.totalMs - previous.totalMs) / finished : undefined;
  }
}
