/** Options for {@linkcode ScrapePacer}. */
export interface ScrapePacerOptions {
  /** Scrapes answered per second at most, and as a burst. Default 5. */
  readonly perSecond?: number;
  /** Scrapes that may wait for their turn; more are refused. Default 64. */
  readonly maxWaiting?: number;
  /** ms since an arbitrary origin. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Paces `/metrics`: a token bucket of `perSecond` scrapes a second. A scrape over the rate waits
 * its turn (so a client that loops on /metrics slows down to the rate instead of taking the event
 * loop validation runs on); past `maxWaiting` waiting, it is refused. Prometheus scraping every
 * few seconds never waits.
 */
export class ScrapePacer {
  private readonly perSecond: number;
  private readonly maxWaiting: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;
  private readonly waiting: Array<() => void> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: ScrapePacerOptions = {}) {
    this.perSecond = options.perSecond ?? 5;
    this.maxWaiting = options.maxWaiting ?? 64;
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.perSecond;
    this.last = this.now();
  }

  /**
   * Resolves `true` when this scrape may be answered (at once, or after waiting its turn), or
   * `false` at once when too many are already waiting.
   */
  turn(): Promise<boolean> {
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= this.maxWaiting) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(true));
      this.schedule();
    });
  }

  /** Answers every waiting scrape at once and stops (for shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const go of this.waiting.splice(0)) go();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(
      this.perSecond,
      this.tokens + ((now - this.last) * this.perSecond) / 1000,
    );
    this.last = now;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refill();
      while (this.tokens >= 1 && this.waiting.length > 0) {
        this.tokens -= 1;
        this.waiting.shift()?.();
      }
      if (this.waiting.length > 0) this.schedule();
    }, wait);
    (this.timer as { unref?: () => void }).unref?.();
  }
}
