import type { Logger } from '../log/index.ts';
import type { CollectorUpdate } from './collectors/index.ts';

/**
 * What the {@linkcode SaturationMonitor} tells the log about its sources: each line when something
 * starts or stops (a collector failing or recovering, an impossible value, a hardware fault, a GPU
 * slowdown), never once per sample.
 */
export class MonitorLog {
  private readonly failed = new Set<string>();
  /** `collector/signal` pairs whose latest good sample held an impossible value. */
  private readonly corrected = new Set<string>();
  /** The faults and slowdowns last logged, one per line. */
  private readonly noted: { faults?: string; slowdowns?: string } = {};

  constructor(private readonly log: Logger) {}

  /** A collector's sample, good or failed (absent sources included). */
  collectorUpdated(name: string, update: CollectorUpdate): void {
    if (update.absent) {
      this.log.info('signal source absent on this host; collector stopped', {
        collector: name,
        reason: update.error,
      });
      return;
    }
    this.failure(name, update);
    if (update.error === undefined) this.corrections(name, update);
  }

  /** The hardware faults and GPU slowdowns of this evaluation. */
  hardware(faults: readonly string[], slowdowns: readonly string[]): void {
    this.list(
      'faults',
      faults,
      'hardware fault: the replica is UNHEALTHY',
      'hardware faults cleared',
    );
    this.list(
      'slowdowns',
      slowdowns,
      'GPU slowed down: its lost speed counts in the score',
      'GPU slowdown over',
    );
  }

  private list(
    key: 'faults' | 'slowdowns',
    now: readonly string[],
    bad: string,
    cleared: string,
  ): void {
    const text = now.join('\n');
    if (text === (this.noted[key] ?? '')) return;
    this.noted[key] = text;
    if (now.length > 0) this.log.warn(bad, { [key]: now });
    else this.log.info(cleared);
  }

  private corrections(name: string, update: CollectorUpdate): void {
    const now = new Set<string>();
    for (const c of update.corrections ?? []) {
      const key = `${name}/${c.signal}`;
      now.add(key);
      if (this.corrected.has(key)) continue;
      this.log.warn('the model server reported an impossible value', {
        collector: name,
        signal: c.signal,
        value: String(c.value),
        used: c.became === null ? 'no signal' : c.became,
      });
    }
    for (const key of this.corrected)
      if (key.startsWith(`${name}/`) && !now.has(key)) {
        this.corrected.delete(key);
        this.log.info('the model server reports sane values again', {
          collector: name,
          signal: key.slice(name.length + 1),
        });
      }
    for (const key of now) this.corrected.add(key);
  }

  private failure(name: string, state: CollectorUpdate): void {
    if (state.error && state.consecutiveFailures === 1)
      this.log.warn('collector failing', { collector: name, error: state.error });
    if (!state.error && state.consecutiveFailures === 0 && this.failed.has(name))
      this.log.info('collector recovered', { collector: name });
    if (state.error) this.failed.add(name);
    else this.failed.delete(name);
  }
}
