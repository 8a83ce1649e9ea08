/** One message received from the broker. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  /** MQTT 5 content type, when the publisher set one. */
  readonly contentType?: string;
  /** Whether the broker delivered it as a retained message. */
  readonly retained: boolean;
}

/**
 * Handles one inbound message. The broker is acknowledged (PUBACK) only after the returned
 * promise settles, and messages are handed over one at a time, in order.
 */
export type MessageHandler = (message: InboundMessage) => Promise<void>;

/** Options for a retained publish. */
export interface RetainedPublishOptions {
  readonly contentType?: string;
  /** MQTT 5 message expiry; ignored on 3.1.1. */
  readonly messageExpirySeconds?: number;
}

/** Where the connection to the broker stands. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'stopped';

/** A snapshot of the connection for status reports. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** The broker URL in use or being tried. */
  readonly url: string | null;
  /** Successful connections after the first. */
  readonly reconnects: number;
  /** ms since the epoch of the last state change. */
  readonly since: number;
  /**
   * Times the broker said another client took our session (MQTT 5 reason 0x8E: the same client
   * id connected elsewhere). Absent where the connection cannot tell.
   */
  readonly takeovers?: number;
}

/**
 * The narrow view of the broker that subsystems depend on, rather than on mqtt.js itself:
 * subscriptions that survive reconnects, and retained publishes that are kept (latest per
 * topic) while offline and sent on reconnect.
 */
export interface MessageBus {
  subscribe(topic: string, handler: MessageHandler): void;
  unsubscribe(topic: string): void;
  /**
   * Publishes `payload` retained at QoS 1. Resolves when the broker confirmed it, or at once when
   * offline, in which case it is sent on reconnect unless a newer payload for the topic replaces it.
   */
  publishRetained(
    topic: string,
    payload: Uint8Array | string,
    options?: RetainedPublishOptions,
  ): Promise<void>;
  status(): ConnectionStatus;
  /** Subscribes to connection state changes; returns the unsubscribe function. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
}

/**
 * A {@linkcode MessageBus} with a lifecycle: what the sidecar owns and starts last and stops
 * last ({@linkcode MqttConnection}, or an {@linkcode InMemoryBroker}'s connection in unit tests).
 */
export interface BrokerConnection extends MessageBus {
  /** Starts connecting in the background; never throws for an unreachable broker. */
  start(): void;
  /** Disconnects cleanly (no will) and stops reconnecting. Idempotent. */
  stop(): Promise<void>;
}
