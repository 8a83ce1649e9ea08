import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import type { BrokerSecrets } from '../credentials/index.ts';
import type { Logger } from '../log/index.ts';
import {
  type BrokerConnection,
  MqttConnection,
  type MqttConnectionOptions,
  type WillMessage,
} from '../mqtt/index.ts';
import type { CoreParts, SidecarDeps } from './core-parts.ts';

/** What the broker connection needs besides the config. */
export interface ConnectionContext {
  readonly secrets: BrokerSecrets;
  /** The last will, asked anew on every connection attempt. */
  readonly will: () => WillMessage;
  readonly clock: Clock;
  readonly random?: (() => number) | undefined;
  readonly logger: Logger;
}

/** The broker connection's options from the `[broker]` and `[rules]` config. Pure. */
export function connectionOptions(c: Config, context: ConnectionContext): MqttConnectionOptions {
  const { password, tls } = context.secrets;
  return {
    will: context.will,
    urls: c.broker.urls,
    clientId: c.broker.clientId,
    protocolVersion: c.broker.protocol === '3.1.1' ? 4 : 5,
    keepaliveSeconds: c.broker.keepaliveSeconds,
    sessionExpirySeconds: c.broker.sessionExpirySeconds,
    connectTimeoutMs: c.broker.connectTimeoutMs,
    // Room above the rule cap so oversize sets still arrive and are NACKed with a reason.
    maximumPacketSize: Math.min(268_435_455, c.rules.maxMessageBytes * 2 + 65_536),
    backoff: c.broker.reconnect,
    ...(c.broker.username !== undefined ? { username: c.broker.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(tls !== undefined ? { tls } : {}),
    clock: context.clock,
    ...(context.random ? { random: context.random } : {}),
    logger: context.logger,
  };
}

/**
 * The broker connection (not started), with this replica's OFFLINE report as its last will:
 * an {@linkcode MqttConnection} unless `deps.connect` makes another (tests use an in-memory one).
 */
export function openConnection(
  c: Config,
  secrets: BrokerSecrets,
  core: Pick<CoreParts, 'publisher' | 'monitor' | 'clock' | 'log'>,
  deps: SidecarDeps,
): BrokerConnection {
  const options = connectionOptions(c, {
    secrets,
    will: () => core.publisher.will(core.monitor.offlineReport()),
    clock: core.clock,
    random: deps.random,
    logger: core.log.child('mqtt'),
  });
  return deps.connect ? deps.connect(options) : new MqttConnection(options);
}
