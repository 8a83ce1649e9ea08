import { Buffer } from 'node:buffer';
import mqtt, { type IClientPublishOptions } from 'mqtt';

/** Options for {@linkcode publishOnce}. */
export interface PublishOnceOptions {
  readonly url: string;
  readonly topic: string;
  readonly payload: Uint8Array | string;
  /** Default true. */
  readonly retain?: boolean;
  /** MQTT protocol version; 5 (default) or 4 (3.1.1). Content type is sent only on 5. */
  readonly protocolVersion?: 4 | 5;
  readonly contentType?: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM material for an mqtts:// URL; the broker's certificate is always verified. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Give up after this long, ms. Default 10 000. */
  readonly timeoutMs?: number;
}

/** Thrown when a one-shot publish cannot connect or is not confirmed in time. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
}

/**
 * Connects with a clean session, publishes one message at QoS 1, waits for the broker's PUBACK,
 * and disconnects. For `filament rules publish` and tests.
 * @throws {PublishError} when the broker is unreachable or does not confirm within the timeout.
 */
export async function publishOnce(options: PublishOnceOptions): Promise<void> {
  const v5 = (options.protocolVersion ?? 5) === 5;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const client = mqtt.connect(options.url, {
    protocolVersion: options.protocolVersion ?? 5,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    clientId: `filament-publish-${Math.random().toString(16).slice(2, 10)}`,
    writeCache: false, // see MqttConnection
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.tls ? { ...options.tls, rejectUnauthorized: true } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new PublishError(`no confirmation from ${options.url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      client.once('error', (error) => {
        clearTimeout(timer);
        reject(
          new PublishError(`cannot publish to ${options.url}: ${error.message}`, { cause: error }),
        );
      });
      client.once('connect', () => {
        const publishOptions: IClientPublishOptions = { qos: 1, retain: options.retain ?? true };
        if (v5 && options.contentType !== undefined)
          publishOptions.properties = { contentType: options.contentType };
        const payload =
          typeof options.payload === 'string' ? options.payload : Buffer.from(options.payload);
        client.publish(options.topic, payload, publishOptions, (error) => {
          clearTimeout(timer);
          if (error)
            reject(
              new PublishError(`broker refused the publish: ${error.message}`, { cause: error }),
            );
          else resolve();
        });
      });
    });
  } finally {
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }
}
