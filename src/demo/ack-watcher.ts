import mqtt, { type MqttClient } from 'mqtt';
import type { AckDocument } from '../rule-stream/index.ts';

/**
 * Watches `{prefix}/acks/#` as a resolver or an operator would, and lets the caller wait for the
 * ACK/NACK that answers a given version.
 */
export class AckWatcher {
  private readonly seen: AckDocument[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (_topic, payload) => {
      try {
        this.seen.push(JSON.parse(payload.toString()) as AckDocument);
      } catch {
        return;
      }
      for (const wake of this.waiters) wake();
    });
  }

  /** Connects and subscribes; resolves once the subscription is in place. */
  static async connect(url: string, prefix: string, protocolVersion: 4 | 5): Promise<AckWatcher> {
    const client = mqtt.connect(url, {
      protocolVersion,
      reconnectPeriod: 500,
      clean: true,
      writeCache: false, // see MqttConnection
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () =>
        client.subscribe(`${prefix}/acks/#`, { qos: 1 }, (e) => (e ? reject(e) : resolve())),
      );
      client.once('error', reject);
    });
    return new AckWatcher(client);
  }

  /** Resolves with (and consumes) the first ACK/NACK seen that `match` accepts; rejects after `timeoutMs`. */
  async next(match: (ack: AckDocument) => boolean, timeoutMs = 10_000): Promise<AckDocument> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find(match);
      if (found) {
        this.seen.splice(this.seen.indexOf(found), 1);
        return found;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no matching ACK within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
  }

  /** Disconnects. */
  close(): Promise<void> {
    return new Promise((resolve) => this.client.end(false, {}, () => resolve()));
  }
}
