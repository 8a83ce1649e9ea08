import { type Clock, systemClock } from '../clock/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import {
  DEFAULT_TOPIC_PREFIX,
  type InboundMessage,
  MqttConnection,
  type MqttConnectionOptions,
} from '../mqtt/index.ts';
import { decodeReport, decodeServableSet, type SaturationReport } from '../report/index.ts';
import type { PickOptions } from './pick.ts';
import { type ReplicaEntry, ReplicaTable } from './replica-table.ts';
import { pickView, type ReplicaView } from './replica-view.ts';
import { ServableTable, type ServeWant } from './servable-table.ts';
import { type Lease, Steering, type SteeringOptions } from './steering.ts';

/** The outcome of {@linkcode Resolver.pickServing}: a replica, or why there is none. */
export type ServingPick =
  | { readonly replica: string }
  | { readonly replica: undefined; readonly reason: string };

/** Options for {@linkcode Resolver}. */
export interface ResolverOptions extends SteeringOptions {
  /** Broker URLs, in failover order. */
  readonly urls: readonly string[];
  readonly topicPrefix?: string;
  /** 5 (default) or 4 (3.1.1). */
  readonly protocolVersion?: 4 | 5;
  /** A replica silent this long drops out, ms. Default 15 000. */
  readonly maxAgeMs?: number;
  readonly pick?: PickOptions;
  /** For a secured broker: MQTT credentials and TLS PEM material (see MqttConnectionOptions). */
  readonly username?: string;
  readonly password?: string;
  readonly tls?: MqttConnectionOptions['tls'];
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/**
 * The resolver-side library: follows every sidecar's saturation reports and picks a replica
 * per cluster (or per routingKey, given the rule set's routingKey → cluster map) so traffic
 * steers away from cold, stale, saturated, draining and vanished replicas.
 *
 * ```ts
 * const resolver = new Resolver({ urls: ['mqtt://broker:1883'] });
 * resolver.start();
 * const replica = resolver.pick('gpu-east'); // → 'gpu-host-17' (or undefined: nothing to pick)
 *
 * // Better: let the resolver count what it sends (between reports) and fence what fails.
 * const lease = resolver.acquire('gpu-east');
 * try { await send(lease.replica); lease.release(); } catch { lease.release('error'); }
 * ```
 *
 * Every pick weighs each replica by its report combined with this resolver's own knowledge
 * ({@linkcode Steering}): requests it sent since the report (leases not yet released), open
 * circuits, and stale reports by `stalePolicy`. {@linkcode snapshot} shows that view.
 */
export class Resolver {
  readonly table: ReplicaTable;
  /** What each host can serve, from its servable set. */
  readonly servable = new ServableTable();
  private readonly connection: MqttConnection;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly listeners = new Set<(report: SaturationReport) => void>();
  private readonly log: Logger;
  private readonly steering: Steering;

  constructor(private readonly options: ResolverOptions) {
    this.clock = options.clock ?? systemClock;
    this.prefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.table = new ReplicaTable(options.maxAgeMs);
    this.log = options.logger ?? silentLogger;
    this.steering = new Steering(options, this.log);
    this.connection = new MqttConnection({
      urls: options.urls,
      clientId: `filament-resolver-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion: options.protocolVersion ?? 5,
      cleanSession: true,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      clock: this.clock,
      logger: this.log,
    });
  }

  /** Connects in the background and follows `{prefix}/replicas/#` and `{prefix}/inventory/#`. */
  start(): void {
    this.connection.subscribe(`${this.prefix}/replicas/#`, async (message) => this.handle(message));
    this.connection.subscribe(`${this.prefix}/inventory/#`, async (message) =>
      this.handleServable(message),
    );
    this.connection.start();
  }

  /** Disconnects. Idempotent. */
  stop(): Promise<void> {
    return this.connection.stop();
  }

  /** Picks a replica of `cluster`; `undefined` when none is known. */
  pick(cluster: string): string | undefined {
    return this.choose(this.views(cluster))?.replica;
  }

  /**
   * Picks a replica of `cluster` (that can serve `want`, when given) and counts the request
   * against it until the returned lease is released: between reports, this resolver's own
   * requests raise the replica's score, and failures fence it. `undefined` when there is none.
   */
  acquire(cluster: string, want?: ServeWant): Lease | undefined {
    const views = want === undefined ? this.views(cluster) : this.able(cluster, want).able;
    const picked = this.choose(views);
    const now = () => this.clock.now();
    return picked === undefined ? undefined : this.steering.lease(picked, now(), now);
  }

  /**
   * Every live replica (of `cluster`, or all) as this resolver weighs it now: reported state,
   * score, seq and age beside the requests in flight, those sent since the report, the score and
   * state picking uses, staleness and the circuit.
   */
  snapshot(cluster?: string): Array<Omit<ReplicaView, 'entry'>> {
    return this.views(cluster).map(({ entry: _entry, ...row }) => row);
  }

  /** Picks a replica for a routingKey, mapped to its cluster by `routingKeys` (a rule set's map). */
  pickForRoutingKey(
    routingKey: string,
    routingKeys: ReadonlyMap<string, string>,
  ): string | undefined {
    const cluster = routingKeys.get(routingKey);
    return cluster === undefined ? undefined : this.pick(cluster);
  }

  /**
   * Picks a replica of `cluster` that can serve `want` (a tenant's routing key or model): only
   * replicas whose current servable set lists it, or that publish none (older sidecars), take
   * part, and the usual choice by state and score (failing open included) runs among those. When
   * none can, the answer says so and why, rather than picking a replica that would refuse.
   */
  pickServing(cluster: string, want: ServeWant): ServingPick {
    const { replicas, able, outOfDate } = this.able(cluster, want);
    const picked = this.choose(able);
    if (picked !== undefined) return { replica: picked.replica };
    const what =
      'routingKey' in want ? `routing key "${want.routingKey}"` : `model "${want.model}"`;
    return {
      replica: undefined,
      reason:
        replicas.length === 0
          ? `no live replica in cluster "${cluster}"`
          : `no replica in cluster "${cluster}" serves ${what} of tenant "${want.tenant}" (${replicas.length} live, ${outOfDate} with a servable set not yet received)`,
    };
  }

  /**
   * The live replicas of `cluster` that can serve `want` as far as this resolver knows (the ones
   * {@linkcode pickServing} chooses among, whatever their state), by name.
   */
  serving(cluster: string, want: ServeWant): string[] {
    return this.able(cluster, want)
      .able.map((r) => r.replica)
      .sort();
  }

  private views(cluster?: string): ReplicaView[] {
    const now = this.clock.now();
    return this.steering.view(this.table.replicas(now, cluster), now);
  }

  private choose(views: readonly ReplicaView[]): ReplicaView | undefined {
    return pickView(views, this.options.pick);
  }

  private able(cluster: string, want: ServeWant) {
    const replicas = this.table.replicas(this.clock.now(), cluster);
    const served: ReplicaEntry[] = [];
    let outOfDate = 0;
    for (const r of replicas) {
      if (keepsRefusing(r, want)) continue;
      const answer = this.servable.answer(r, want);
      if (answer === 'yes' || answer === 'unannounced') served.push(r);
      else if (answer === 'out-of-date') outOfDate++;
    }
    return { replicas, able: this.steering.view(served, this.clock.now()), outOfDate };
  }

  /** Every live replica (all clusters), for fleet views. */
  replicas(): ReplicaEntry[] {
    return this.table.replicas(this.clock.now());
  }

  /** Subscribes to each accepted report; returns the unsubscribe function. */
  onReport(listener: (report: SaturationReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * An empty retained message on `{prefix}/{section}/{cluster}/{replica}` clears what was held for
   * that replica (an operator retired it): tells `remove`, and returns true.
   */
  private cleared(
    message: InboundMessage,
    section: string,
    remove: (cluster: string, replica: string) => void,
  ): boolean {
    if (message.payload.byteLength !== 0) return false;
    const parts = message.topic.slice(`${this.prefix}/${section}/`.length).split('/');
    if (parts.length === 2) remove(parts[0] as string, parts[1] as string);
    return true;
  }

  private handle(message: InboundMessage): void {
    if (this.cleared(message, 'replicas', (c, r) => this.table.remove(c, r))) return;
    const report = decodeReport(message.payload);
    if ('error' in report) {
      this.log.warn('ignoring a bad saturation report', {
        topic: message.topic,
        error: report.error,
      });
      return;
    }
    if (this.table.update(report, this.clock.now()))
      for (const listener of this.listeners) listener(report);
  }

  private handleServable(message: InboundMessage): void {
    if (this.cleared(message, 'inventory', (c, r) => this.servable.remove(c, r))) return;
    const set = decodeServableSet(message.payload);
    if ('error' in set) {
      this.log.warn('ignoring a bad servable set', { topic: message.topic, error: set.error });
      return;
    }
    this.servable.update(set);
  }
}

/**
 * Refusals of one key in a host's last minute (its report's `refusals`) from which a resolver stops
 * sending that key there: the host's request-path check keeps answering "elsewhere" for it.
 */
export const REFUSED_ENOUGH = 5;

/** Whether `entry`'s latest report says its check keeps refusing `want`'s routing key. */
function keepsRefusing(entry: ReplicaEntry, want: ServeWant): boolean {
  if (!('routingKey' in want)) return false;
  return (
    entry.report.refusals?.some(
      (r) =>
        r.tenant === want.tenant && r.routingKey === want.routingKey && r.count >= REFUSED_ENOUGH,
    ) ?? false
  );
}
