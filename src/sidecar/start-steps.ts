import type { Config } from '../config/index.ts';
import { StateDirLock, type StateStore } from '../last-known-good/index.ts';
import type { Logger } from '../log/index.ts';
import { MetricsServer, type SidecarMetrics } from '../metrics/index.ts';
import type { ConnectionStatus, MessageBus } from '../mqtt/index.ts';
import type { RuleFollower } from '../rule-stream/index.ts';
import type { SaturationMonitor } from '../saturation/index.ts';
import type { TrustRoot } from '../trust/index.ts';
import type { ChangeSignal } from './change-signal.ts';

/**
 * Takes the state directory for this sidecar alone; a lock left by a sidecar that is gone is taken
 * over, and said so. @throws {StateDirLockedError} naming the live holder.
 */
export async function lockStateDir(
  c: Config,
  state: StateStore,
  log: Logger,
): Promise<StateDirLock> {
  const label = `replica ${c.identity.replica}, topic prefix ${c.broker.topicPrefix}`;
  const lock = await StateDirLock.acquire(c.state.dir, label, {
    freeSpace: () => state.releaseReserve(),
  });
  if (lock.tookOver)
    log.warn('took over the state directory lock of a sidecar that is gone', {
      dir: c.state.dir,
      previous: lock.tookOver,
    });
  return lock;
}

/** Says at start-up whether rule sets must be signed, and by whom. */
export function logTrust(log: Logger, trust: TrustRoot | undefined): void {
  if (trust === undefined)
    log.warn(
      'rule sets are NOT signature-checked: no trusted keys configured (rules.trusted_keys); anyone who can publish to the rules topics controls this host',
    );
  else
    log.info('rule sets must be signed', {
      trustedKeyIds: [...trust.keys.keys()],
      threshold: trust.threshold,
    });
}

/**
 * Follows the broker connection: counts reconnections and session take-overs, reports at once on
 * every (re)connection
 * (the broker may have published our OFFLINE will for the connection that was lost, and
 * resolvers should not wait for the heartbeat), and tells config watchers.
 */
export function followConnection(
  bus: MessageBus,
  metrics: SidecarMetrics,
  monitor: SaturationMonitor,
  changes: ChangeSignal,
): void {
  let reconnects = 0;
  let takeovers = 0;
  let wasConnected = false;
  bus.onStatus((status: ConnectionStatus) => {
    if (status.reconnects > reconnects)
      metrics.brokerReconnects.inc(status.reconnects - reconnects);
    reconnects = status.reconnects;
    const taken = status.takeovers ?? 0;
    if (taken > takeovers) metrics.sessionTakeovers.inc(taken - takeovers);
    takeovers = taken;
    const connected = status.state === 'connected';
    if (connected && !wasConnected) monitor.publishNow();
    wasConnected = connected;
    changes.emit();
  });
}

/** Counts every ACK/NACK by tenant, status and rejection code, and tells config watchers of them. */
export function countAcks(
  follower: RuleFollower,
  metrics: SidecarMetrics,
  changes: ChangeSignal,
): void {
  follower.onAck((ack) => {
    metrics.ruleMessages.inc({ tenant: ack.tenant, status: ack.status });
    if (ack.status === 'rejected')
      metrics.ruleRejections.inc({ tenant: ack.tenant, code: ack.code ?? 'UNKNOWN' });
    changes.emit();
  });
  // A set that reached the disk after failed saves changes what GetConfig reports.
  follower.onDurable(() => changes.emit());
}

/**
 * Serves `/metrics` on `listen` (none when `null`). A port that cannot be bound is logged, not
 * fatal: losing metrics must not take the validation service down with it.
 */
export async function startMetricsServer(
  options: Config['metrics'],
  metrics: SidecarMetrics,
  log: Logger,
): Promise<MetricsServer | null> {
  const { listen } = options;
  if (listen === null) return null;
  const server = new MetricsServer(
    listen,
    () => metrics.text(),
    metrics.registry.contentType,
    options.maxScrapesPerSecond,
  );
  try {
    await server.start();
    log.info('metrics listening', {
      url: `http://${listen.replace(/:\d+$/, `:${server.port}`)}/metrics`,
    });
    return server;
  } catch (error) {
    log.error('metrics endpoint not started', { error });
    return null;
  }
}
