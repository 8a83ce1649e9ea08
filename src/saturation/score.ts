import type { SignalName } from '../report/index.ts';
import type { Signals } from './signals.ts';
import type { Thresholds } from './thresholds.ts';

/** A raw score and what went into it. */
export interface RawScore {
  /** 0 (idle) to 1 (full). */
  readonly score: number;
  /** Each signal's normalised value, 0–1, for the report. */
  readonly components: Partial<Record<SignalName, number>>;
  /** Signals older than the stale limit; they count as 1.0. */
  readonly stale: readonly SignalName[];
}

/**
 * The raw saturation score: the largest of the normalised signals (queue / maxQueue,
 * running / maxConcurrency, KV-cache use, GPU utilisation, and — when `latencyTargetMs` is set —
 * recent mean latency / latencyTargetMs), each clamped to [0, 1]. The largest,
 * not an average, because one exhausted resource (a full KV cache) saturates the replica however
 * idle the others are. A stale signal counts as 1.0 and is listed; a missing one is ignored.
 * No signals at all scores 0. A throttled GPU (`throttled`, the speed it lost) then takes its share
 * of what is left: `1 − (1 − score)·(1 − throttled)`, so an idle GPU at half speed scores 0.5.
 */
export function rawScore(signals: Signals, thresholds: Thresholds, now: number): RawScore {
  const components: Partial<Record<SignalName, number>> = {};
  const stale: SignalName[] = [];
  let score = 0;
  const add = (name: SignalName, normalised: number | undefined, at: number | undefined) => {
    if (normalised === undefined || at === undefined) return;
    const isStale = now - at > thresholds.staleAfterMs;
    if (isStale) stale.push(name);
    const value = isStale ? 1 : clamp(normalised);
    components[name] = value;
    if (value > score) score = value;
  };
  add('queue', signals.queue && signals.queue.value / thresholds.maxQueue, signals.queue?.at);
  add(
    'running',
    signals.running && signals.running.value / thresholds.maxConcurrency,
    signals.running?.at,
  );
  add('kvCache', signals.kvCache?.value, signals.kvCache?.at);
  add('gpu', signals.gpu?.value, signals.gpu?.at);
  if (thresholds.latencyTargetMs > 0) {
    add(
      'latency',
      signals.latency && signals.latency.value / thresholds.latencyTargetMs,
      signals.latency?.at,
    );
  }
  // A throttled GPU serves at (1 − throttled) of its speed: what capacity is left shrinks by as
  // much. Only while fresh (a stale nvidia-smi already counts its GPU signal as full).
  const t = signals.throttled;
  if (t !== undefined && now - t.at <= thresholds.staleAfterMs && t.value > 0)
    score = 1 - (1 - score) * (1 - clamp(t.value));
  return { score, components, stale };
}

/** Exponential moving average step: `previous + alpha · (next − previous)`; the first value passes through. */
export function smooth(previous: number | null, next: number, alpha: number): number {
  return previous === null ? next : previous + alpha * (next - previous);
}

function clamp(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1;
}
