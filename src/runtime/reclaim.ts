/**
 * Memory held outside the JavaScript heap (sockets, HTTP/2 sessions and their buffers) is freed
 * only when the objects that own it are collected, and the collector does not see that memory when
 * it decides when to run. A flood of short connections then grows RSS by tens of megabytes before
 * a collection happens on its own. {@linkcode Reclaimer} lets the code that sees such churn ask for
 * a full collection, at most once per interval.
 * @module
 */

interface GcGlobals {
  Bun?: { gc(force: boolean): void };
}

/** Options for {@linkcode Reclaimer}. */
export interface ReclaimerOptions {
  /** Released objects (closed connections, cancelled streams) that warrant a collection. */
  readonly threshold: number;
  /** At most one collection per this many ms. */
  readonly minIntervalMs: number;
  /** Runs a full collection; defaults to the runtime's (Bun's `Bun.gc(true)`; none elsewhere). */
  readonly collect?: () => void;
  /** Told how long each collection took, ms. */
  readonly onCollected?: (ms: number) => void;
  /** Milliseconds now; defaults to `performance.now()`. */
  readonly now?: () => number;
}

/** Asks for a full garbage collection once enough releasable native-backed objects were dropped. */
export class Reclaimer {
  private released = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private pending: ReturnType<typeof setTimeout> | null = null;
  private readonly collect: (() => void) | null;
  private readonly now: () => number;
  /** Collections run so far. */
  collections = 0;

  constructor(private readonly options: ReclaimerOptions) {
    const bun = (globalThis as GcGlobals).Bun;
    this.collect = options.collect ?? (bun ? () => bun.gc(true) : null);
    this.now = options.now ?? (() => performance.now());
  }

  /** Records `count` released objects; a collection follows once they reach the threshold. */
  release(count = 1): void {
    this.released += count;
    if (this.released < this.options.threshold || this.pending || !this.collect) return;
    const wait = Math.max(0, this.lastAt + this.options.minIntervalMs - this.now());
    this.pending = setTimeout(() => this.run(), wait);
    (this.pending as { unref?: () => void }).unref?.();
  }

  /** Cancels a scheduled collection (at shutdown). */
  stop(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
  }

  private run(): void {
    this.pending = null;
    this.released = 0;
    const started = this.now();
    this.collect?.();
    this.lastAt = this.now();
    this.collections++;
    this.options.onCollected?.(this.lastAt - started);
  }
}
