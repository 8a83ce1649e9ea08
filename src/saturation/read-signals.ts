import type { ExpositionFormat } from '../exposition/index.ts';
import type { Correction } from './collectors/collector.ts';
import { familiesOf, type MetricPreset } from './metric-presets.ts';
import { parseMetricsText } from './metrics-text.ts';
import type { Signals } from './signals.ts';

/** Signals read from one scrape, and which of the preset's signals the text did not contain. */
export interface ScrapeReading {
  readonly signals: Signals;
  /** Signals the preset knows but the server did not report (e.g. a renamed metric). */
  readonly missing: ReadonlyArray<'queue' | 'running' | 'kvCache'>;
  /** Cumulative latency (ms) and request count, when the preset and the server have them. */
  readonly latencyTotals?: { readonly totalMs: number; readonly count: number };
  /** Cumulative requests finished and failed, when the preset and the server have them. */
  readonly counters?: { readonly requests?: number; readonly errors?: number };
  /** Impossible values the server reported, and what was made of them. */
  readonly corrections?: readonly Correction[];
}

/**
 * A gauge value made sane: NaN and infinities are dropped (no signal rather than a wrong one),
 * negatives become 0, and a KV-cache use above 1 becomes 1 (both seen from real servers, e.g.
 * vllm-ascend). Returns the value to use (`undefined`: none) and the correction, if any.
 */
export function saneGauge(
  signal: 'queue' | 'running' | 'kvCache',
  value: number,
): { value?: number; correction?: Correction } {
  if (!Number.isFinite(value)) return { correction: { signal, value, became: null } };
  if (value < 0) return { value: 0, correction: { signal, value, became: 0 } };
  if (signal === 'kvCache' && value > 1)
    return { value: 1, correction: { signal, value, became: 1 } };
  return { value };
}

const PRESET_FAMILIES = new WeakMap<MetricPreset, readonly string[] | undefined>();

/** The families `preset` reads, worked out once per preset. */
function wanted(preset: MetricPreset): readonly string[] | undefined {
  if (!PRESET_FAMILIES.has(preset)) PRESET_FAMILIES.set(preset, familiesOf(preset));
  return PRESET_FAMILIES.get(preset);
}

/**
 * Reads queue depth, requests in flight and KV-cache use from a model server's metrics text with
 * a preset, stamping each reading with `at`; only the families the preset reads are parsed.
 * `{ error }` when the text does not parse (a wanted family's line is malformed).
 */
export function readSignals(
  text: string | Uint8Array,
  preset: MetricPreset,
  at: number,
  format: ExpositionFormat = 'prometheus-text',
): ScrapeReading | { error: string } {
  const families = wanted(preset);
  const metrics = parseMetricsText(
    text,
    families === undefined ? { format } : { format, families },
  );
  if ('error' in metrics) return metrics;
  const signals: { -readonly [K in keyof Signals]: Signals[K] } = {};
  const missing: Array<'queue' | 'running' | 'kvCache'> = [];
  const corrections: Correction[] = [];
  for (const name of ['queue', 'running', 'kvCache'] as const) {
    const extract = preset[name];
    if (extract === undefined) continue;
    const raw = extract(metrics);
    if (raw === undefined) {
      missing.push(name);
      continue;
    }
    const sane = saneGauge(name, raw);
    if (sane.correction) corrections.push(sane.correction);
    if (sane.value !== undefined) signals[name] = { value: sane.value, at };
  }
  const corrected = corrections.length > 0 ? { corrections } : {};
  const requests = finite(preset.requests?.(metrics));
  const errors = finite(preset.errors?.(metrics));
  const counters =
    requests === undefined && errors === undefined
      ? {}
      : {
          counters: {
            ...(requests !== undefined ? { requests } : {}),
            ...(errors !== undefined ? { errors } : {}),
          },
        };
  const l = preset.latency;
  const total = l?.total(metrics);
  const count = l?.count(metrics);
  if (l === undefined || total === undefined || count === undefined)
    return { signals, missing, ...counters, ...corrected };
  if (!Number.isFinite(total) || !Number.isFinite(count) || total < 0 || count < 0)
    return { signals, missing, ...counters, ...corrected };
  return {
    signals,
    missing,
    ...counters,
    ...corrected,
    latencyTotals: { totalMs: total * l.toMs, count },
  };
}

function finite(x: number | undefined): number | undefined {
  return x !== undefined && Number.isFinite(x) && x >= 0 ? x : undefined;
}

/** How far back a request or error rate looks by default, ms. */
export const RATE_WINDOW_MS = 2000;

/**
 * Turns a cumulative counter read at successive scrapes into a rate per second over the last
 * `windowMs` (or as much of it as there is): over one 100 ms scrape, a server finishing 5
 * requests a second would swing between 0 and 10. The first reading gives no rate; a counter that
 * went down (the server restarted) or vanished starts over.
 */
export class RateFromCounter {
  private readonly history: Array<{ value: number; at: number }> = [];

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** The rate per second over the window ending with this reading, or `undefined`. */
  next(value: number | undefined, at: number): number | undefined {
    const h = this.history;
    const last = h.at(-1);
    if (value === undefined || (last !== undefined && value < last.value)) h.length = 0;
    if (value === undefined) return undefined;
    if (last !== undefined && at <= last.at) return undefined;
    h.push({ value, at });
    // Keep the newest reading at least a window old as the start, and nothing older.
    while (h.length > 2 && at - (h[1] as { at: number }).at >= this.windowMs) h.shift();
    const first = h[0] as { value: number; at: number };
    return h.length < 2 ? undefined : ((value - first.value) * 1000) / (at - first.at);
  }
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
