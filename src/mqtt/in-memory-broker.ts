import type {
  BrokerConnection,
  ConnectionState,
  ConnectionStatus,
  InboundMessage,
  MessageHandler,
  RetainedPublishOptions,
} from './message-bus.ts';
import type { WillMessage } from './mqtt-connection.ts';
import { topicMatches } from './topics.ts';

/** One message as the in-memory broker saw it published. */
export interface PublishedMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly contentType?: string;
  /** Published by the broker itself as a client's last will. */
  readonly will: boolean;
}

/** Options for {@linkcode InMemoryBroker.connect}. */
export interface InMemoryConnectOptions {
  /** The last will, asked on every (re)connection as MqttConnection does. */
  readonly will?: WillMessage | (() => WillMessage);
  /** ms since the epoch, for status timestamps. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * A broker in memory, for fast unit tests of what talks to a {@linkcode BrokerConnection}: the
 * retained store, topic filters with `+` and `#`, ordered delivery with the handler awaited
 * before the next message (as PUBACK waits in MqttConnection), last wills, and the faults a test
 * needs (a client that vanishes, a broker restart). Retained publishes made while offline are
 * kept, the newest per topic, and sent on connect, as MqttConnection does. Not a network broker:
 * the demo and the integration tests use mosquitto or aedes; `test/mqtt/message-bus-contract.ts`
 * holds both to the same behaviour.
 */
export class InMemoryBroker {
  /** Every message published, in order, wills included. */
  readonly published: PublishedMessage[] = [];
  private readonly retained = new Map<string, PublishedMessage>();
  private readonly clients = new Set<InMemoryConnection>();

  /** A new, not yet started connection to this broker. */
  connect(options: InMemoryConnectOptions = {}): InMemoryConnection {
    return new InMemoryConnection(this, options);
  }

  /** The retained message of `topic`, if any. */
  retainedOn(topic: string): PublishedMessage | undefined {
    return this.retained.get(topic);
  }

  /** Messages published so far on `topic` (or matching a filter), in order. */
  publishedOn(filter: string): PublishedMessage[] {
    return this.published.filter((m) => topicMatches(filter, m.topic));
  }

  /** Drops every client's connection (they reconnect at once), as a broker restart would. */
  restart(): void {
    const clients = [...this.clients];
    for (const client of clients) client.drop();
    for (const client of clients) client.reconnect();
  }

  /** @internal Stores (when retained) and delivers a message to every matching subscriber. */
  publish(message: PublishedMessage, retain: boolean): void {
    this.published.push(message);
    if (retain) {
      if (message.payload.byteLength === 0) this.retained.delete(message.topic);
      else this.retained.set(message.topic, message);
    }
    for (const client of this.clients) client.deliver(message, false);
  }

  /** @internal */
  attach(client: InMemoryConnection): void {
    this.clients.add(client);
  }

  /** @internal */
  detach(client: InMemoryConnection): void {
    this.clients.delete(client);
  }

  /** @internal Retained messages matching `filter`, for a new subscription. */
  retainedMatching(filter: string): PublishedMessage[] {
    return [...this.retained.values()].filter((m) => topicMatches(filter, m.topic));
  }
}

/** A client connection to an {@linkcode InMemoryBroker}, behind the same interface as MqttConnection. */
export class InMemoryConnection implements BrokerConnection {
  private state: ConnectionState = 'idle';
  private since: number;
  private connections = 0;
  private readonly handlers = new Map<string, MessageHandler>();
  /** Retained publishes made while offline: the newest per topic, sent on connect. */
  private readonly pending = new Map<string, PublishedMessage>();
  private readonly listeners = new Set<(status: ConnectionStatus) => void>();
  private delivery: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly broker: InMemoryBroker,
    private readonly options: InMemoryConnectOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.since = this.now();
  }

  start(): void {
    if (this.state === 'idle') this.reconnect();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.broker.detach(this);
    this.setState('stopped');
    await this.delivery;
  }

  /** Vanishes without disconnecting: the broker publishes the will. The client stays down. */
  crash(): void {
    if (this.state !== 'connected') return;
    this.drop();
    this.setState('stopped');
  }

  subscribe(topic: string, handler: MessageHandler): void {
    this.handlers.set(topic, handler);
    if (this.state === 'connected')
      for (const m of this.broker.retainedMatching(topic)) this.deliver(m, true, topic);
  }

  unsubscribe(topic: string): void {
    this.handlers.delete(topic);
  }

  publishRetained(
    topic: string,
    payload: Uint8Array | string,
    options: RetainedPublishOptions = {},
  ): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    const message: PublishedMessage = {
      topic,
      payload: typeof payload === 'string' ? new TextEncoder().encode(payload) : payload,
      ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
      will: false,
    };
    if (this.state === 'connected') this.broker.publish(message, true);
    else this.pending.set(topic, message);
    return Promise.resolve();
  }

  status(): ConnectionStatus {
    return {
      state: this.state,
      url: 'memory://',
      reconnects: Math.max(0, this.connections - 1),
      since: this.since,
    };
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal The connection is lost without a DISCONNECT: the will is published. */
  drop(): void {
    if (this.state !== 'connected') return;
    this.broker.detach(this);
    this.setState('disconnected');
    const will = typeof this.options.will === 'function' ? this.options.will() : this.options.will;
    if (will)
      this.broker.publish(
        {
          topic: will.topic,
          payload: will.payload,
          ...(will.contentType !== undefined ? { contentType: will.contentType } : {}),
          will: true,
        },
        will.retain,
      );
  }

  /** @internal Connects (again), then resubscribes: retained messages are delivered anew. */
  reconnect(): void {
    if (this.state === 'connected' || this.state === 'stopped') return;
    this.connections++;
    this.broker.attach(this);
    this.setState('connected');
    for (const filter of this.handlers.keys())
      for (const m of this.broker.retainedMatching(filter)) this.deliver(m, true, filter);
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const message of pending) this.broker.publish(message, true);
  }

  /** @internal Queues `message` for the handler of the first matching filter (or `only`). */
  deliver(message: PublishedMessage, retained: boolean, only?: string): void {
    const handler =
      only !== undefined
        ? this.handlers.get(only)
        : [...this.handlers].find(([filter]) => topicMatches(filter, message.topic))?.[1];
    if (!handler) return;
    const inbound: InboundMessage = {
      topic: message.topic,
      payload: message.payload,
      retained,
      ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
    };
    // One at a time, in order: the next message waits for the previous handler.
    this.delivery = this.delivery.then(() => handler(inbound)).catch(() => {});
  }

  /** Resolves when every message delivered so far has been handled. */
  settled(): Promise<void> {
    return this.delivery;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = this.now();
    const status = this.status();
    for (const listener of this.listeners) listener(status);
  }
}
