import type { Clock, TimerHandle } from '../clock/index.ts';
import type { StateStore } from '../last-known-good/index.ts';
import type { Logger } from '../log/index.ts';
import { Backoff, type BackoffOptions } from '../mqtt/index.ts';
import type { CompiledRuleSet, RuleStore } from '../rules/index.ts';

/**
 * 200 ms doubling to 5 s: one small write attempt every few seconds costs nothing, and an operator
 * who frees the disk sees the sets saved within seconds.
 */
export const RETRY_BACKOFF: BackoffOptions = Object.freeze({
  initialMs: 200,
  maxMs: 5_000,
  multiplier: 2,
  jitter: 0.3,
});

/** Options for {@linkcode DurableSaver}. */
export interface DurableSaverOptions {
  readonly state: Pick<StateStore, 'save' | 'appendDelta'>;
  readonly store: RuleStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Told when a tenant's active set became durable after failed attempts. */
  readonly onRecovered: (tenant: string, version: number) => void;
  readonly random?: () => number;
}

/** Where a tenant's last-known-good stands. */
export interface Durability {
  /** The active version is on disk. */
  readonly persisted: boolean;
  /** Why the last attempt failed, while not persisted. */
  readonly error?: string;
  /** Failed attempts since the active version was applied. */
  readonly failures: number;
}

/**
 * Writes applied rule sets to the state directory, and never gives up on one: when a save fails
 * (a full or read-only disk), the tenant's *active* set — whatever is newest by then — is retried
 * with {@linkcode RETRY_BACKOFF} until it is durable, so the version floor on disk never stays
 * behind what was applied.
 */
export class DurableSaver {
  private readonly pending = new Map<
    string,
    { timer: TimerHandle | null; backoff: Backoff; error: string; failures: number }
  >();
  private stopped = false;

  constructor(private readonly options: DurableSaverOptions) {}

  /** Saves `rules` now; on failure starts retrying. Resolves with the error, if any. */
  async save(rules: CompiledRuleSet): Promise<Error | undefined> {
    try {
      await this.write(rules);
      this.settled(rules.tenant);
      return undefined;
    } catch (error) {
      this.failed(rules.tenant, error as Error);
      return error as Error;
    }
  }

  /** Where `tenant`'s last-known-good stands. */
  durability(tenant: string): Durability {
    const p = this.pending.get(tenant);
    return p
      ? { persisted: false, error: p.error, failures: p.failures }
      : { persisted: true, failures: 0 };
  }

  /** Stops retrying. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const p of this.pending.values()) p.timer?.cancel();
  }

  /**
   * A set a delta made is journaled as that delta (a few hundred bytes) when it continues what is
   * on disk; otherwise — and for full sets — the complete set is written, with the delta that
   * made it, if any, to vouch for it on restore.
   */
  private async write(rules: CompiledRuleSet): Promise<void> {
    const { madeBy } = rules;
    if (madeBy !== undefined) {
      const appended = await this.options.state.appendDelta({
        tenant: rules.tenant,
        version: rules.version,
        base: madeBy.base,
        envelope: madeBy.signed,
        bytes: madeBy.message,
      });
      if (appended) return;
    }
    await this.options.state.save({
      tenant: rules.tenant,
      version: rules.version,
      encoding: rules.encoding,
      appliedAt: rules.appliedAt,
      bytes: rules.raw,
      envelope: madeBy === undefined && rules.signedBy !== undefined,
      ...(madeBy !== undefined
        ? { attestation: { bytes: madeBy.message, envelope: madeBy.signed } }
        : {}),
    });
  }

  private failed(tenant: string, error: Error): void {
    const p = this.pending.get(tenant) ?? {
      timer: null,
      backoff: new Backoff(RETRY_BACKOFF, this.options.random),
      error: '',
      failures: 0,
    };
    p.error = error.message;
    p.failures++;
    this.pending.set(tenant, p);
    if (p.timer !== null || this.stopped) return;
    const delay = p.backoff.next();
    this.options.log.warn('rules not persisted; retrying', {
      tenant,
      failures: p.failures,
      inMs: delay,
      error: error.message,
    });
    p.timer = this.options.clock.setTimeout(() => void this.retry(tenant), delay);
  }

  private async retry(tenant: string): Promise<void> {
    const p = this.pending.get(tenant);
    if (!p || this.stopped) return;
    p.timer = null;
    const active = this.options.store.active(tenant);
    if (active === undefined) return;
    try {
      await this.write(active);
    } catch (error) {
      this.failed(tenant, error as Error);
      return;
    }
    this.options.log.info('rules persisted after failed attempts', {
      tenant,
      version: active.version,
      failures: p.failures,
    });
    this.settled(tenant);
    this.options.onRecovered(tenant, active.version);
  }

  private settled(tenant: string): void {
    this.pending.get(tenant)?.timer?.cancel();
    this.pending.delete(tenant);
  }
}
