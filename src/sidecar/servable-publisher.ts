import { createHash } from 'node:crypto';
import type { Clock } from '../clock/index.ts';
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

  /** Works the set out again; publishes it when it changed. Returns whether it did. */
  refresh(): boolean {
    if (this.bus === null) return false;
    const confirmed = this.options.confirmed();
    const tenants: TenantServable[] = [];
    for (const tenant of this.options.tenants()) {
      const s = this.options.servability.of(tenant);
      if (s === undefined) continue;
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
