import type { Clock } from '../clock/index.ts';
import {
  type DriftItem,
  DriftWatch,
  type LiveInventory,
  type StaticModelInventory,
} from '../inventory/index.ts';
import type { Logger } from '../log/index.ts';

/**
 * With discovery on, `[[models]]` says what this host must serve. After every answer of the
 * model server this compares the two; a change in the drift is logged once, and told to
 * `onChange` (which makes the replica UNHEALTHY while there is drift, so resolvers avoid it).
 */
export class DriftMonitor {
  private readonly watch: DriftWatch;
  private drift: readonly DriftItem[] = [];

  constructor(
    private readonly expected: StaticModelInventory,
    private readonly live: LiveInventory,
    warmupMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly onChange: () => void,
  ) {
    this.watch = new DriftWatch(warmupMs);
  }

  /** Expected models that disagree with the server now. */
  current(): readonly DriftItem[] {
    return this.drift;
  }

  /** Compares again (after an answer of the server, or a reload of `[[models]]`). */
  check(): void {
    // While the inventory is unconfirmed there is nothing to compare with (that is its own alarm).
    if (this.live.unconfirmedReason !== null) return;
    const next = this.watch.assess(this.expected.list(), this.live.served(), this.clock.now());
    if (JSON.stringify(next) === JSON.stringify(this.drift)) return;
    const before = new Set(this.drift.map((d) => `${d.id} ${d.version} ${d.problem}`));
    this.drift = next;
    if (next.length === 0)
      this.log.info('model drift cleared: the server has what [[models]] expects');
    for (const d of next)
      if (!before.has(`${d.id} ${d.version} ${d.problem}`))
        this.log.error('model drift: the server does not have what [[models]] expects', { ...d });
    this.onChange();
  }
}
