import { createHash } from 'node:crypto';
import type { Clock } from '../clock/index.ts';
import type { Servability } from '../inventory/index.ts';
import type { MessageBus } from '../mqtt/index.ts';
import {
  encodeServableSet,
  type ServableSet,
  servableSetTopic,
  type TenantServable,
} from '../report/index.ts';
import type { ServabilityView } from './servability.ts';

/** Options for {@linkcode ServablePublisher}. */
export interface ServablePublisherOptions {
  readonly topicPrefix: string;
  readonly cluster: string;
  readonly replica: string;
  readonly servability: ServabilityView;
  /** The tenants followed now. */
  readonly tenants: () => readonly string[];
  /** Whether what the model server has loaded is confirmed now. */
  readonly confirmed: () => boolean;
  readonly clock: Clock;
}

/**
 * Publishes what this host can serve now, per tenant (retained JSON on
 * `{prefix}/inventory/{cluster}/{replica}`), whenever it changes, so resolvers never send a
 * routing key or model to a host that would refuse it. Its seq and digest ride in every
 * SaturationReport, so a resolver knows whether its copy is current.
 */
export class ServablePublisher {
  readonly topic: string;
  private bus: MessageBus | null = null;
  private last: { seq: number; digest: string } | undefined;
  private lastInputs: { confirmed: boolean; inputs: readonly Servability[] } | null = null;

  constructor(private readonly options: ServablePublisherOptions) {
    this.topic = servableSetTopic(options.topicPrefix, options.cluster, options.replica);
  }

  /** Publishes over `bus` from now on (offline publishes are kept newest-first by the bus). */
  attach(bus: MessageBus): void {
    this.bus = bus;
  }

  /** The seq and digest last published (what reports carry), or `undefined` before. */
  current(): { seq: number; digest: string } | undefined {
    return this.last;
  }

  private sameInputs(confirmed: boolean, inputs: readonly Servability[]): boolean {
    const last = this.lastInputs;
    return (
      last !== null &&
      last.confirmed === confirmed &&
      last.inputs.length === inputs.length &&
      last.inputs.every((s, i) => s === inputs[i])
    );
  }

  /** Works the set out again; publishes it when it changed. Returns whether it did. */
  refresh(): boolean {
    if (this.bus === null) return false;
    const confirmed = this.options.confirmed();
    // Called on every config change (each ACK, each broker status): when every tenant's
    // servability is the very object used last time (the view caches it until the rules or the
    // inventory change), nothing can differ, and the set is neither rebuilt nor hashed again.
    const inputs: Servability[] = [];
    for (const tenant of this.options.tenants()) {
      const s = this.options.servability.of(tenant);
      if (s !== undefined) inputs.push(s);
    }
    if (this.sameInputs(confirmed, inputs)) return false;
    this.lastInputs = { confirmed, inputs };
    const tenants: TenantServable[] = [];
    for (const s of inputs) {
      const tenant = s.tenant;
      tenants.push({
        tenant,
        version: s.version,
        keys: s.servableKeys,
        models: s.servableModels,
        unservable: s.unservableKeys,
      });
    }
    const digest = createHash('sha256')
      .update(JSON.stringify({ confirmed, tenants }))
      .digest('hex')
      .slice(0, 16);
    if (this.last?.digest === digest) return false;
    const seq = (this.last?.seq ?? 0) + 1;
    const set: ServableSet = {
      v: 1,
      replica: this.options.replica,
      cluster: this.options.cluster,
      seq,
      digest,
      at: this.options.clock.now(),
      confirmed,
      tenants,
    };
    void this.bus.publishRetained(this.topic, encodeServableSet(set), {
      contentType: 'application/json',
    });
    this.last = { seq, digest };
    return true;
  }
}
