import { contentTypeOf, decodeDocument } from '../codec/index.ts';
import { CONFIG_DEFAULTS } from '../config/index.ts';
import {
  type InboundMessage,
  MqttConnection,
  type MqttConnectionOptions,
  rulesFullTopic,
  rulesTopic,
} from '../mqtt/index.ts';
import { decodeReport } from '../report/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';
import { claimedVersion, DELTA_CONTENT_TYPE, DELTA_KIND, readEnvelope } from '../rules/index.ts';
import {
  type ReportSeen,
  type RetainedRules,
  type RolloutView,
  reportSeen,
  rolloutView,
} from './rollout-view.ts';

/**
 * What a command hears of one tenant's fleet on the broker: the retained rule set (and full set,
 * when deltas are published), each replica's retained ACK and its last saturation report.
 */
export class FleetWatch {
  /** The tenant's retained rules message, `null` until one arrives (or when none is retained). */
  rules: RetainedRules | null = null;
  /** The retained `…/full` set beside a delta. */
  full: RetainedRules | null = null;
  private readonly acks = new Map<string, AckDocument>();
  private readonly reports = new Map<string, ReportSeen>();

  constructor(
    readonly tenant: string,
    private readonly cluster?: string,
  ) {}

  /** Subscribes `connection` to everything the watch reads (before `connection.start()`). */
  follow(connection: MqttConnection, prefix: string): void {
    connection.subscribe(rulesTopic(prefix, this.tenant), async (m) => {
      this.rules = m.payload.byteLength === 0 ? null : retainedRules(m);
    });
    connection.subscribe(rulesFullTopic(prefix, this.tenant), async (m) => {
      this.full = m.payload.byteLength === 0 ? null : retainedRules(m);
    });
    connection.subscribe(`${prefix}/acks/${this.tenant}/+`, async (m) => this.ack(m));
    connection.subscribe(`${prefix}/replicas/+/+`, async (m) => this.report(m));
  }

  /** Every ACK heard, newest per replica. */
  allAcks(): AckDocument[] {
    return [...this.acks.values()];
  }

  view(now: number): RolloutView {
    return rolloutView({
      tenant: this.tenant,
      target: this.rules?.version ?? null,
      acks: this.allAcks(),
      reports: this.reports,
      now,
      ...(this.cluster !== undefined ? { cluster: this.cluster } : {}),
    });
  }

  private ack(message: InboundMessage): void {
    const replica = message.topic.slice(message.topic.lastIndexOf('/') + 1);
    if (message.payload.byteLength === 0) {
      // Cleared (a retired replica): forget it, whichever cluster it was in.
      for (const [key, ack] of this.acks) if (ack.replica === replica) this.acks.delete(key);
      return;
    }
    try {
      const ack = JSON.parse(new TextDecoder().decode(message.payload)) as AckDocument;
      if (typeof ack?.replica === 'string' && ack.tenant === this.tenant)
        this.acks.set(`${ack.cluster}/${ack.replica}`, ack);
    } catch {
      // Not an ACK: ignored, like any stranger on the topic.
    }
  }

  private report(message: InboundMessage): void {
    const [cluster, replica] = message.topic.split('/').slice(-2);
    if (message.payload.byteLength === 0) {
      this.reports.delete(`${cluster}/${replica}`);
      return;
    }
    const report = decodeReport(message.payload);
    if ('error' in report) return;
    this.reports.set(`${report.cluster}/${report.replica}`, reportSeen(report));
  }
}

/**
 * Connects to the broker with a watch on `tenant`, and resolves once connected (or after
 * `connectTimeoutMs`) and retained messages had a moment to arrive (one second). `stop()` closes
 * the connection.
 */
export async function watchFleet(options: {
  readonly connection: MqttConnectionOptions;
  readonly prefix: string;
  readonly tenant: string;
  readonly cluster?: string;
  /** How long to wait for the connection before listening anyway (default 5 s). */
  readonly connectTimeoutMs?: number;
}): Promise<{ watch: FleetWatch; connected: boolean; stop(): Promise<void> }> {
  const watch = new FleetWatch(options.tenant, options.cluster);
  const connection = new MqttConnection(options.connection);
  watch.follow(connection, options.prefix);
  const connected = await listenForRetained(connection, options.connectTimeoutMs);
  return { watch, connected, stop: () => connection.stop() };
}

/**
 * Starts `connection` (its subscriptions made), waits until it is connected (at most
 * `connectTimeoutMs`, default 5 s), then one second for retained messages to arrive. Whether it
 * connected.
 */
export async function listenForRetained(
  connection: MqttConnection,
  connectTimeoutMs = 5_000,
): Promise<boolean> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  connection.start();
  const connectBy = Date.now() + connectTimeoutMs;
  while (connection.status().state !== 'connected' && Date.now() < connectBy) await sleep(50);
  if (connection.status().state !== 'connected') return false;
  await sleep(1000);
  return true;
}

/** The version a retained rules message names (inside its envelope when signed), and a delta's base. */
function retainedRules(message: InboundMessage): RetainedRules {
  const limits = {
    maxBytes: CONFIG_DEFAULTS.rules.max_message_bytes,
    maxDepth: CONFIG_DEFAULTS.rules.max_depth,
  };
  const envelope = readEnvelope(
    { bytes: message.payload, contentType: message.contentType },
    limits,
  );
  if (envelope !== null && 'rejection' in envelope) return { version: null };
  const bareDelta = message.contentType === DELTA_CONTENT_TYPE;
  const decoded = envelope
    ? decodeDocument(envelope.payload, limits, contentTypeOf(envelope.encoding))
    : decodeDocument(message.payload, limits, bareDelta ? undefined : message.contentType);
  if (!decoded.ok) return { version: null };
  const base = (decoded.value as { base?: unknown } | null)?.base;
  const delta = envelope
    ? envelope.contents === 'rules-delta'
    : bareDelta || (decoded.value as { kind?: unknown } | null)?.kind === DELTA_KIND;
  return {
    version: claimedVersion(decoded.value),
    ...(delta && Number.isSafeInteger(base) ? { deltaBase: base as number } : {}),
  };
}
