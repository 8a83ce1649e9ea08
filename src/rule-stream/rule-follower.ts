import { type Clock, isoTime, systemClock } from '../clock/index.ts';
import { contentTypeOf } from '../codec/index.ts';
import type { JournalEntry, StateStore } from '../last-known-good/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import {
  ackTopic,
  type InboundMessage,
  type MessageBus,
  rulesFullTopic,
  rulesTopic,
} from '../mqtt/index.ts';
import {
  type ApplyOutcome,
  DELTA_CONTENT_TYPE,
  formatRejection,
  type RejectionCode,
  type RuleApplier,
  type RuleStore,
} from '../rules/index.ts';
import { ENVELOPE_CONTENT_TYPE } from '../trust/index.ts';
import { type AckDocument, type AckIdentity, type AckServing, buildAck } from './ack.ts';
import { type Durability, DurableSaver } from './durable-saver.ts';

/** Options for {@linkcode RuleFollower}. */
export interface RuleFollowerOptions {
  readonly bus: MessageBus;
  readonly applier: RuleApplier;
  readonly store: RuleStore;
  /** Where last-known-good rules live (the state directory, in the sidecar). */
  readonly state: Pick<StateStore, 'load' | 'save' | 'appendDelta' | 'discard'>;
  readonly topicPrefix: string;
  readonly replica: string;
  readonly cluster: string;
  readonly tenants: readonly string[];
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** What this host can serve of a tenant's active version now; added to its ACKs. */
  readonly serving?: (tenant: string) => AckServing | undefined;
}

/** Refusals that mean the trust root does not vouch for a set (rather than that it is broken). */
const TRUST_CODES: ReadonlySet<RejectionCode> = new Set(['UNSIGNED', 'SIGNATURE', 'NO_EXPIRY']);

/**
 * Follows the rule stream: restores last-known-good rules from disk before the broker is
 * reachable, then applies each rule message for its tenants, persists what it applied, and
 * publishes an ACK or NACK. A bad message never replaces good rules.
 */
export class RuleFollower {
  private readonly acks = new Map<string, AckDocument>();
  /** Tenants whose complete set is being fetched (a delta could not be applied). */
  private readonly fetching = new Set<string>();
  private readonly ackListeners = new Set<(ack: AckDocument) => void>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private tenants: string[] = [];
  private started = false;
  private readonly saver: DurableSaver;
  private readonly durabilityListeners = new Set<() => void>();

  constructor(private readonly options: RuleFollowerOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.saver = new DurableSaver({
      state: options.state,
      store: options.store,
      clock: this.clock,
      log: this.log,
      onRecovered: (tenant, version) => this.recovered(tenant, version),
    });
  }

  /**
   * Loads each tenant's last-known-good rules from the state directory. A corrupt current file
   * falls back to the previous copy, then to no rules; the remembered high-water version is
   * restored either way, so older versions stay refused. Never throws for bad files.
   */
  async restore(): Promise<void> {
    for (const tenant of this.options.tenants) await this.restoreTenant(tenant);
  }

  /** Subscribes to every configured tenant's rules topic. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.setTenants(this.options.tenants);
  }

  /** Changes the followed tenants (for a config reload); rules of dropped tenants stay loaded. */
  setTenants(tenants: readonly string[]): void {
    const next = [...new Set(tenants)];
    for (const tenant of this.tenants)
      if (!next.includes(tenant)) this.options.bus.unsubscribe(this.topic(tenant));
    for (const tenant of next) {
      if (this.tenants.includes(tenant)) continue;
      this.options.bus.subscribe(this.topic(tenant), (message) => this.onMessage(tenant, message));
    }
    this.tenants = next;
  }

  /**
   * Follows a new tenant list from a config reload: tenants not seen before get their
   * last-known-good rules from disk first, then every added tenant is subscribed.
   */
  async followTenants(tenants: readonly string[]): Promise<void> {
    for (const tenant of tenants)
      if (!this.tenants.includes(tenant) && this.options.store.get(tenant) === undefined)
        await this.restoreTenant(tenant);
    this.setTenants(tenants);
  }

  /** Stops following (and retrying saves); rules stay loaded. Idempotent. */
  stop(): void {
    this.saver.stop();
    for (const tenant of this.fetching)
      this.options.bus.unsubscribe(rulesFullTopic(this.options.topicPrefix, tenant));
    this.fetching.clear();
    for (const tenant of this.tenants) this.options.bus.unsubscribe(this.topic(tenant));
    this.tenants = [];
    this.started = false;
  }

  /** Subscribes to every ACK/NACK as it is decided; returns the unsubscribe function. */
  onAck(listener: (ack: AckDocument) => void): () => void {
    this.ackListeners.add(listener);
    return () => this.ackListeners.delete(listener);
  }

  /** Whether `tenant`'s active version is on disk (false while saves fail and are retried). */
  durability(tenant: string): Durability {
    return this.saver.durability(tenant);
  }

  /** Subscribes to a tenant's active version becoming durable after failures. */
  onDurable(listener: () => void): () => void {
    this.durabilityListeners.add(listener);
    return () => this.durabilityListeners.delete(listener);
  }

  /** The last ACK/NACK this replica published (or would have) for `tenant`. */
  lastAck(tenant: string): AckDocument | undefined {
    return this.acks.get(tenant);
  }

  private topic(tenant: string): string {
    return rulesTopic(this.options.topicPrefix, tenant);
  }

  private async restoreTenant(tenant: string): Promise<void> {
    const loaded = await this.options.state.load(tenant);
    for (const problem of loaded.problems)
      this.log.warn('state file unusable', { tenant, problem });
    if (loaded.setAside !== undefined)
      this.log.error('last-known-good rules of another stream set aside; starting without them', {
        tenant,
        reason: loaded.setAside,
      });
    if (loaded.record) {
      const h = loaded.record.header;
      const outcome = this.options.applier.apply({
        tenant,
        bytes: loaded.record.bytes,
        contentType: h.envelope ? ENVELOPE_CONTENT_TYPE : contentTypeOf(h.encoding),
        ...(loaded.record.attestation !== undefined
          ? { attestation: loaded.record.attestation }
          : {}),
      });
      if (outcome.status === 'applied') {
        const version = this.replayJournal(tenant, loaded.deltas);
        void this.options.applier.prepareForDelta(tenant);
        this.log.info('restored last-known-good rules', {
          tenant,
          version,
          from: loaded.source,
          ...(loaded.deltas.length > 0 ? { snapshot: outcome.version } : {}),
        });
      } else if (outcome.status === 'rejected') {
        this.log.error('last-known-good rules no longer valid; starting without them', {
          tenant,
          version: h.version,
          reason: formatRejection(outcome.rejection),
        });
        if (TRUST_CODES.has(outcome.rejection.code)) {
          // The trust root changed (keys rotated, threshold raised, signing turned on): what it
          // no longer vouches for, including the version floor, must not block its new sets.
          await this.options.state.discard(tenant);
          this.log.warn('trust root changed: set aside the old rules and their version floor', {
            tenant,
            version: h.version,
            highWater: loaded.highWater,
          });
          return;
        }
      }
    } else if (loaded.problems.length > 0) {
      this.log.error('no usable last-known-good rules; starting without rules', { tenant });
    }
    if (loaded.highWater > 0) this.options.store.raiseHighWater(tenant, loaded.highWater);
  }

  /**
   * Applies the deltas journaled after the restored set, in order, each as it arrived (so signed
   * ones are verified again); stops at the first that does not apply. Returns the version reached.
   */
  private replayJournal(tenant: string, deltas: readonly JournalEntry[]): number | undefined {
    for (const entry of deltas) {
      const outcome = this.options.applier.apply({
        tenant,
        bytes: entry.bytes,
        contentType: entry.envelope ? ENVELOPE_CONTENT_TYPE : DELTA_CONTENT_TYPE,
      });
      if (outcome.status !== 'applied') {
        this.log.warn('a journaled rule delta no longer applies; restored the version before it', {
          tenant,
          base: entry.base,
          version: entry.version,
          reason:
            outcome.status === 'rejected' ? formatRejection(outcome.rejection) : outcome.status,
        });
        break;
      }
    }
    return this.options.store.active(tenant)?.version;
  }

  /**
   * Takes `tenant`'s complete set from `{prefix}/rules/{tenant}/full` (retained) because a delta
   * could not be applied here: subscribes until one message arrives, applies it like any set, and
   * says so in its ACK (`fetchedFull`).
   */
  private fetchFull(tenant: string): void {
    if (this.fetching.has(tenant)) return;
    this.fetching.add(tenant);
    const topic = rulesFullTopic(this.options.topicPrefix, tenant);
    this.options.bus.subscribe(topic, async (message) => {
      if (!this.fetching.delete(tenant)) return;
      this.options.bus.unsubscribe(topic);
      await this.onMessage(tenant, message, true);
    });
  }

  private async onMessage(
    tenant: string,
    message: InboundMessage,
    fetchedFull = false,
  ): Promise<void> {
    const outcome = this.options.applier.apply({
      tenant,
      bytes: message.payload,
      ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
    });
    if (outcome.status === 'needs-full') {
      this.log.info('a rule delta this host cannot apply: taking the full set', {
        tenant,
        base: outcome.base,
        version: outcome.version,
        activeVersion: outcome.activeVersion,
        reason: outcome.reason,
      });
      this.fetchFull(tenant);
      return;
    }
    if (outcome.status === 'applied') {
      this.logApplied(tenant, outcome, message);
      // Ready for the next delta: its base's digest and array copies, made off the hot path.
      void this.options.applier.prepareForDelta(tenant);
      const error = await this.saver.save(outcome.rules);
      if (error)
        this.log.error('applied rules could not be persisted', {
          tenant,
          version: outcome.version,
          error,
        });
    } else if (outcome.status === 'rejected') {
      this.log.warn('rejected rule set', {
        tenant,
        version: outcome.version,
        activeVersion: outcome.activeVersion,
        code: outcome.rejection.code,
        path: outcome.rejection.path,
        reason: outcome.rejection.message,
        retained: message.retained,
      });
    } else {
      this.log.debug('rule set unchanged', {
        tenant,
        version: outcome.version,
        retained: message.retained,
      });
    }
    const identity: AckIdentity = {
      tenant,
      replica: this.options.replica,
      cluster: this.options.cluster,
    };
    const built = buildAck(identity, outcome, this.clock.now(), this.saver.durability(tenant));
    const serving = built.activeVersion === null ? undefined : this.options.serving?.(tenant);
    const ack = {
      ...built,
      ...(serving === undefined ? {} : { serving }),
      ...(fetchedFull ? { fetchedFull: true } : {}),
    };
    for (const listener of this.ackListeners) listener(ack);
    this.publishAck(ack);
  }

  /**
   * Works out again what this host can serve of each tenant's active version (after what the
   * model server has loaded changed) and publishes the ACK again where that changed.
   */
  refreshServing(): void {
    if (this.options.serving === undefined) return;
    for (const [tenant, last] of this.acks) {
      if (last.activeVersion === null) continue;
      const serving = this.options.serving(tenant);
      if (serving === undefined || JSON.stringify(serving) === JSON.stringify(last.serving))
        continue;
      const ack = { ...last, serving, at: isoTime(this.clock.now()) };
      for (const listener of this.ackListeners) listener(ack);
      this.publishAck(ack);
    }
  }

  /** Records and publishes `ack` retained (the rollout view reads these). */
  private publishAck(ack: AckDocument): void {
    this.acks.set(ack.tenant, ack);
    // Not awaited: the broker's confirmation of this publish arrives on the connection that is
    // waiting for this handler to finish before it reads anything else.
    this.options.bus
      .publishRetained(
        ackTopic(this.options.topicPrefix, ack.tenant, this.options.replica),
        JSON.stringify(ack),
        { contentType: 'application/json' },
      )
      .catch((error: unknown) =>
        this.log.warn('ACK not published', {
          tenant: ack.tenant,
          version: ack.receivedVersion,
          error,
        }),
      );
  }

  /** A tenant's active set reached the disk after failed saves: say so in its ACK again. */
  private recovered(tenant: string, version: number): void {
    const last = this.acks.get(tenant);
    if (last && last.activeVersion === version && !last.persisted) {
      const { reason, ...rest } = last;
      this.publishAck({
        ...rest,
        ...(last.status === 'rejected' && reason !== undefined ? { reason } : {}),
        persisted: true,
        at: isoTime(this.clock.now()),
      });
    }
    for (const listener of this.durabilityListeners) listener();
  }

  private logApplied(
    tenant: string,
    outcome: Extract<ApplyOutcome, { status: 'applied' }>,
    message: InboundMessage,
  ): void {
    this.log.info('applied rule set', {
      tenant,
      version: outcome.version,
      previousVersion: outcome.previousVersion,
      models: outcome.rules.models.size,
      objectives: outcome.rules.objectives.size,
      bytes: message.payload.byteLength,
      encoding: outcome.rules.encoding,
      retained: message.retained,
    });
  }
}
