import type { Clock, TimerHandle } from '../../clock/index.ts';
import {
  type Collector,
  type CollectorUpdate,
  type Contribution,
  type Correction,
  SourceAbsentError,
} from './collector.ts';

/** What a collector knows: the last good sample, and the last failure if it is more recent. */
export interface CollectorState<T> extends CollectorUpdate {
  readonly value?: T;
}

/** Options for {@linkcode PeriodicCollector}. */
export interface PeriodicCollectorOptions<T> {
  readonly name: string;
  /**
   * Takes one sample; may throw or reject (recorded as a failure, never propagated). A
   * {@linkcode SourceAbsentError} stops the collector for good.
   */
  readonly sample: () => Promise<T>;
  readonly intervalMs: number;
  readonly clock: Clock;
  /** What a state adds to the replica's picture. Default: nothing. */
  readonly contribute?: (state: CollectorState<T>) => Contribution;
  /** Called after every attempt, successful or not. */
  readonly onUpdate?: (state: CollectorState<T>) => void;
  /** Impossible values a good sample held, and what was made of them (for logs and metrics). */
  readonly corrections?: (value: T) => readonly Correction[];
}

/**
 * Runs a sampler every `intervalMs` (never two at once: the next starts after the previous
 * settles), keeping the last good value apart from the last failure, so a failing source
 * degrades its own signal and nothing else. Timers come from the injected clock.
 */
export class PeriodicCollector<T> implements Collector {
  readonly name: string;
  private state: CollectorState<T> = { consecutiveFailures: 0 };
  private timer: TimerHandle | null = null;
  private running = false;
  private listener: ((update: CollectorUpdate) => void) | undefined;

  constructor(private readonly options: PeriodicCollectorOptions<T>) {
    this.name = options.name;
  }

  /** Takes a first sample at once, then one per interval. */
  start(onUpdate?: (update: CollectorUpdate) => void): void {
    if (this.running || this.state.absent) return;
    this.listener = onUpdate;
    this.running = true;
    void this.tick();
  }

  /** Stops sampling. Idempotent. */
  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /** The current state. */
  get current(): CollectorState<T> {
    return this.state;
  }

  contribution(): Contribution {
    return this.options.contribute?.(this.state) ?? {};
  }

  lastSampleAt(): number | undefined {
    return this.state.at;
  }

  /** Takes one sample now (also used by tests); resolves with the new state. */
  async sampleNow(): Promise<CollectorState<T>> {
    try {
      const value = await this.options.sample();
      const corrections = this.options.corrections?.(value) ?? [];
      this.state = {
        value,
        at: this.options.clock.now(),
        consecutiveFailures: 0,
        ...(corrections.length > 0 ? { corrections } : {}),
      };
    } catch (error) {
      const { value, at } = this.state;
      const absent = error instanceof SourceAbsentError;
      this.state = {
        ...(value !== undefined ? { value } : {}),
        ...(at !== undefined ? { at } : {}),
        error: `${this.options.name}: ${(error as Error)?.message ?? String(error)}`,
        consecutiveFailures: this.state.consecutiveFailures + 1,
        ...(absent ? { absent } : {}),
      };
      if (absent) this.stop();
    }
    this.options.onUpdate?.(this.state);
    this.listener?.(this.state);
    return this.state;
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    await this.sampleNow();
    if (this.running)
      this.timer = this.options.clock.setTimeout(() => void this.tick(), this.options.intervalMs);
  }
}
