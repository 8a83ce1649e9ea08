import { Buffer } from 'node:buffer';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { type Clock, systemClock, type TimerHandle } from '../clock/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.ts';
import type {
  BrokerConnection,
  ConnectionState,
  ConnectionStatus,
  InboundMessage,
  MessageHandler,
  RetainedPublishOptions,
} from './message-bus.ts';
import { topicMatches } from './topics.ts';

/** MQTT 5 DISCONNECT reason code: another connection uses this client id. */
const SESSION_TAKEN_OVER = 0x8e;
/** A connection the broker closes unasked within this long after accepting it is suspect… */
const SHORT_LIVED_MS = 5_000;
/** …and this many in a row are taken for a session take-over. */
const SHORT_LIVED_RUN = 5;

/** Options for {@linkcode MqttConnection}. */
export interface MqttConnectionOptions {
  /** Broker URLs (`mqtt://`, `mqtts://`, `ws://`), tried in order on failure. At least one. */
  readonly urls: readonly string[];
  readonly clientId: string;
  /** MQTT protocol version: 5 (default) or 4 (3.1.1). */
  readonly protocolVersion?: 4 | 5;
  /** Keepalive in seconds. Default 30. */
  readonly keepaliveSeconds?: number;
  /** MQTT 5 session expiry in seconds (the broker keeps our subscriptions and queued messages that long). Default 3600. */
  readonly sessionExpirySeconds?: number;
  /** Start a clean session on every connect (for short-lived observers). Default false: persistent. */
  readonly cleanSession?: boolean;
  /** How long one connection attempt may take, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** MQTT 5 maximum packet size we accept; larger messages are dropped by the broker. */
  readonly maximumPacketSize?: number;
  readonly backoff?: BackoffOptions;
  /** Last will, published by the broker if we vanish without disconnecting; a function is asked on every attempt. */
  readonly will?: WillMessage | (() => WillMessage);
  readonly username?: string;
  readonly password?: string;
  /** PEM material for mqtts:// URLs; the broker's certificate is always verified. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: Logger;
}

/** The message the broker publishes if this client vanishes without disconnecting. */
export interface WillMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain: boolean;
  readonly messageExpirySeconds?: number;
  readonly contentType?: string;
}

interface Pending {
  readonly payload: Uint8Array | string;
  readonly options: RetainedPublishOptions;
  readonly waiters: Array<() => void>;
}

/**
 * A persistent-session MQTT connection on mqtt.js that owns reconnection: exponential backoff
 * with jitter instead of mqtt.js's fixed period, failover across the URL list in order,
 * resubscription on every connect, no unbounded offline queue (only the latest retained payload
 * per topic is kept), and PUBACK only after the handler has finished with a message.
 */
export class MqttConnection implements BrokerConnection {
  private client: MqttClient | null = null;
  private urlIndex = 0;
  private state: ConnectionState = 'idle';
  private since: number;
  private connections = 0;
  private timer: TimerHandle | null = null;
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly pending = new Map<string, Pending>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly backoff: Backoff;
  /** Retries of subscriptions the broker refused, while connected. */
  private readonly subscribeBackoff: Backoff;
  private subscribeTimer: TimerHandle | null = null;
  /** Topics refused on this connection, asked for again when {@linkcode subscribeTimer} fires. */
  private readonly toResubscribe = new Set<string>();
  private readonly random: () => number;
  private connectedAt = 0;
  /** Consecutive session take-overs (see {@linkcode sessionTakenOver}). */
  private takeoverRun = 0;
  private takeovers = 0;
  /** Consecutive connections the broker closed unasked soon after accepting them. */
  private shortLived = 0;
  private sessionPresent = false;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly options: MqttConnectionOptions) {
    if (options.urls.length === 0)
      throw new RangeError('MqttConnection needs at least one broker URL');
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, this.random);
    this.subscribeBackoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, this.random);
    this.log = options.logger ?? silentLogger;
    this.since = this.clock.now();
  }

  /** Starts connecting in the background; never throws for an unreachable broker. */
  start(): void {
    if (this.state !== 'idle') return;
    this.attempt();
  }

  /**
   * Disconnects cleanly (a DISCONNECT packet, so the broker does not publish the will) and
   * stops reconnecting. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.timer?.cancel();
    this.timer = null;
    this.cancelResubscribe();
    this.setState('stopped');
    const client = this.client;
    this.client = null;
    if (client) await endClient(client, false);
    for (const pending of this.pending.values()) for (const wake of pending.waiters) wake();
    this.pending.clear();
  }

  subscribe(topic: string, handler: MessageHandler): void {
    this.handlers.set(topic, handler);
    if (this.state === 'connected') this.subscribeNow([topic]);
  }

  unsubscribe(topic: string): void {
    this.handlers.delete(topic);
    if (this.state === 'connected') this.client?.unsubscribe(topic);
  }

  publishRetained(
    topic: string,
    payload: Uint8Array | string,
    options: RetainedPublishOptions = {},
  ): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.pending.get(topic);
      const entry: Pending = { payload, options, waiters: [resolve, ...(previous?.waiters ?? [])] };
      this.pending.set(topic, entry);
      if (this.state === 'connected') this.send(topic, entry);
    });
  }

  status(): ConnectionStatus {
    return {
      state: this.state,
      url: this.options.urls[this.urlIndex] ?? null,
      reconnects: Math.max(0, this.connections - 1),
      since: this.since,
      takeovers: this.takeovers,
    };
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  private attempt(): void {
    this.timer = null;
    if (this.state === 'stopped') return;
    const url = this.options.urls[this.urlIndex] as string;
    this.setState('connecting');
    const client = mqtt.connect(url, this.clientOptions());
    this.client = client;
    let connected = false;
    let takenOver = false;
    let told = false;
    // Replace mqtt.js's no-op so the PUBACK waits for our handler (it is sent from the callback).
    client.handleMessage = (packet, done) => {
      this.dispatch(packet as IPublishPacket).then(
        () => done(),
        () => done(),
      );
    };
    client.on('connect', (connack) => {
      connected = true;
      this.connections++;
      this.backoff.reset();
      this.connectedAt = this.clock.now();
      this.sessionPresent = connack.sessionPresent;
      this.setState('connected');
      this.log.info('connected to broker', {
        url,
        sessionPresent: connack.sessionPresent,
        reconnects: this.connections - 1,
      });
      this.subscribeNow([...this.handlers.keys()]);
      for (const [topic, entry] of this.pending) this.send(topic, entry);
    });
    client.on('error', (error) => {
      this.log.warn('broker connection error', { url, error });
    });
    client.on('disconnect', (packet) => {
      // MQTT 5: the broker says why it disconnects us. 0x8E: another client connected with our
      // client id — two sidecars share a replica name, and would kick each other off forever.
      told = true;
      if (packet.reasonCode === SESSION_TAKEN_OVER) takenOver = true;
      else this.log.warn('broker disconnected us', { url, reasonCode: packet.reasonCode });
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      // The next connection subscribes to every topic again.
      this.cancelResubscribe();
      client.removeAllListeners();
      client.on('error', () => {});
      void endClient(client, true);
      if (this.state === 'stopped') return;
      const evidence = connected ? this.takeoverEvidence(takenOver, told) : null;
      if (connected && evidence === null) this.log.warn('disconnected from broker', { url });
      // After losing a broker that had accepted us, try it again first; after a failed attempt, move down the list.
      if (!connected && this.options.urls.length > 1)
        this.urlIndex = (this.urlIndex + 1) % this.options.urls.length;
      const delay = evidence ? this.sessionTakenOver(url, evidence) : this.backoff.next();
      this.setState('disconnected');
      this.log.info('reconnecting', {
        url: this.options.urls[this.urlIndex],
        inMs: delay,
        attempt: this.backoff.attempts,
      });
      this.timer = this.clock.setTimeout(() => this.attempt(), delay);
    });
  }

  /**
   * Another client took our session (same client id, see {@linkcode takeoverEvidence}): says so
   * as an error naming the id, counts it, and waits long before trying again — 5 s doubling to 5 min while it keeps happening — so
   * two sidecars with one replica name cannot flap the broker and the fleet's reports.
   */
  /**
   * Why this lost connection looks like a session take-over, or `null`. MQTT 5 brokers may say so
   * (reason 0x8E); others (mosquitto 2.0) just close the old connection. So a run of connections
   * the broker closed unasked within seconds of accepting them *with our session present* counts
   * too (a broker that restarts without persistence hands out fresh sessions instead).
   */
  private takeoverEvidence(said: boolean, told: boolean): string | null {
    if (said) return 'the broker said so (MQTT 5 reason 0x8E)';
    const lived = this.clock.now() - this.connectedAt;
    const suspect = !told && this.sessionPresent && lived < SHORT_LIVED_MS;
    this.shortLived = suspect ? this.shortLived + 1 : 0;
    return this.shortLived >= SHORT_LIVED_RUN
      ? `the broker closed ${this.shortLived} connections in a row within ${SHORT_LIVED_MS / 1000} s of resuming our session`
      : null;
  }

  private sessionTakenOver(url: string, evidence: string): number {
    const now = this.clock.now();
    // A connection that lasted a minute ends the run of take-overs.
    if (now - this.connectedAt > 60_000) this.takeoverRun = 0;
    this.takeoverRun++;
    this.takeovers++;
    const delay = Math.round(
      Math.min(300_000, 5_000 * 2 ** (this.takeoverRun - 1)) * (1 - 0.2 * this.random()),
    );
    this.log.error('session taken over by another client with our client id', {
      url,
      clientId: this.options.clientId,
      evidence,
      hint: 'two sidecars share this replica name (broker.client_id defaults to filament-{replica}): give each its own',
      takeovers: this.takeovers,
      retryInMs: delay,
    });
    return delay;
  }

  private clientOptions(): IClientOptions {
    const o = this.options;
    const v5 = (o.protocolVersion ?? 5) === 5;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: o.protocolVersion ?? 5,
      clean: o.cleanSession ?? false,
      keepalive: o.keepaliveSeconds ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 5000,
      reconnectPeriod: 0,
      resubscribe: false,
      queueQoSZero: false,
      // Otherwise mqtt-packet pre-builds a 2-byte Buffer for each of the 65,536 possible
      // numbers on the first write: ≈ 40 ms and 65k objects (MBs of heap) kept for the
      // life of the process, to save one tiny allocation per packet.
      writeCache: false,
    };
    if (v5) {
      options.properties = { sessionExpiryInterval: o.sessionExpirySeconds ?? 3600 };
      if (o.maximumPacketSize !== undefined)
        options.properties.maximumPacketSize = o.maximumPacketSize;
    }
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (o.tls) {
      options.rejectUnauthorized = true;
      if (o.tls.ca !== undefined) options.ca = o.tls.ca;
      if (o.tls.cert !== undefined) options.cert = o.tls.cert;
      if (o.tls.key !== undefined) options.key = o.tls.key;
    }
    // A provider is asked again on every connection attempt, so the will is never stale.
    const will = typeof o.will === 'function' ? o.will() : o.will;
    if (will) {
      options.will = {
        topic: will.topic,
        payload: Buffer.from(will.payload),
        qos: 1,
        retain: will.retain,
      };
      if (v5) {
        options.will.properties = {
          ...(will.messageExpirySeconds !== undefined
            ? { messageExpiryInterval: will.messageExpirySeconds }
            : {}),
          ...(will.contentType !== undefined ? { contentType: will.contentType } : {}),
        };
      }
    }
    return options;
  }

  /**
   * Subscribes to `topics` at QoS 1. A subscription the broker refuses (a SUBACK failure code: an
   * ACL, or a broker too busy to set it up, as a nats cluster with 200 clients connecting at once
   * was) or that fails is asked for again with backoff while this connection lasts — without it, a
   * host would stay connected and never follow its tenant.
   */
  private subscribeNow(topics: string[]): void {
    const client = this.client;
    if (topics.length === 0 || !client) return;
    client.subscribe(topics, { qos: 1 }, (error, granted) => {
      const failed = error ? topics : (granted ?? []).filter((g) => g.qos > 1).map((g) => g.topic);
      if (failed.length === 0) {
        this.subscribeBackoff.reset();
        this.log.info('subscribed', { topics });
        return;
      }
      if (this.client !== client || this.state !== 'connected') return;
      const inMs = this.subscribeBackoff.next();
      this.log.error(error ? 'subscribe failed' : 'broker refused subscriptions', {
        topics: failed,
        ...(error ? { error } : {}),
        retryInMs: inMs,
      });
      for (const topic of failed) this.toResubscribe.add(topic);
      this.subscribeTimer ??= this.clock.setTimeout(() => {
        this.subscribeTimer = null;
        const again = [...this.toResubscribe].filter((topic) => this.handlers.has(topic));
        this.toResubscribe.clear();
        if (this.client === client && this.state === 'connected') this.subscribeNow(again);
      }, inMs);
    });
  }

  private cancelResubscribe(): void {
    this.subscribeTimer?.cancel();
    this.subscribeTimer = null;
    this.toResubscribe.clear();
  }

  private send(topic: string, entry: Pending): void {
    const client = this.client;
    if (!client) return;
    const properties: Record<string, unknown> = {};
    if (entry.options.contentType !== undefined) properties.contentType = entry.options.contentType;
    if (entry.options.messageExpirySeconds !== undefined)
      properties.messageExpiryInterval = entry.options.messageExpirySeconds;
    const v5 = (this.options.protocolVersion ?? 5) === 5;
    const payload = typeof entry.payload === 'string' ? entry.payload : Buffer.from(entry.payload);
    client.publish(
      topic,
      payload,
      { qos: 1, retain: true, ...(v5 ? { properties } : {}) },
      (error) => {
        // On failure the entry stays pending and is sent again after the next connect.
        if (error || this.pending.get(topic) !== entry) return;
        this.pending.delete(topic);
        for (const wake of entry.waiters) wake();
      },
    );
  }

  private async dispatch(packet: IPublishPacket): Promise<void> {
    const handler = this.handlers.get(packet.topic) ?? this.wildcardHandler(packet.topic);
    if (!handler) return;
    const payload = ownBytes(packet.payload);
    const message: InboundMessage = {
      topic: packet.topic,
      payload,
      retained: packet.retain,
      ...(packet.properties?.contentType !== undefined
        ? { contentType: packet.properties.contentType }
        : {}),
    };
    try {
      await handler(message);
    } catch (error) {
      this.log.error('message handler failed', { topic: packet.topic, error });
    }
  }

  private wildcardHandler(topic: string): MessageHandler | undefined {
    for (const [filter, handler] of this.handlers) if (topicMatches(filter, topic)) return handler;
    return undefined;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = this.clock.now();
    const status = this.status();
    for (const listener of this.statusListeners) listener(status);
  }
}

/** Ends an mqtt.js client; `force` skips the DISCONNECT packet. Resolves when it is closed. */
function endClient(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    client.end(force, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A payload's bytes as a Uint8Array of their own: a view when the buffer holds nothing else (a
 * large message mqtt-packet assembled from several socket reads — no second 2.5 MB copy), a copy
 * when it is a slice of a larger socket chunk or pool (kept, a 300-byte delta would hold 64 KB).
 */
function ownBytes(payload: string | Buffer): Uint8Array {
  if (typeof payload === 'string') return new TextEncoder().encode(payload);
  return payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength
    ? new Uint8Array(payload.buffer, 0, payload.byteLength)
    : new Uint8Array(payload);
}
