/**
 * Time as an injectable dependency, so tests drive timers instead of sleeping.
 * @module
 */

/** A cancellable timer handle returned by {@linkcode Clock.setTimeout}. */
export interface TimerHandle {
  cancel(): void;
}

/** Wall-clock time and one-shot timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds unless cancelled first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: `Date.now()` and the platform's timers (unref'd, so they never keep a process alive). */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = setTimeout(fn, ms);
    (timer as { unref?: () => void }).unref?.();
    return { cancel: () => clearTimeout(timer) };
  },
});

/** Returns `ms` as an ISO-8601 UTC timestamp. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
