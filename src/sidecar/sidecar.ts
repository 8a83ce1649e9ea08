import { ApiServer, type ConfigSnapshot, type HealthState } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { loadTrustRoot, readBrokerFiles } from '../credentials/index.ts';
import type { ModelInventory, StaticModelInventory } from '../inventory/index.ts';
import type { StateDirLock } from '../last-known-good/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import type { BrokerConnection } from '../mqtt/index.ts';
import { RuleFollower } from '../rule-stream/index.ts';
import type { RuleStore } from '../rules/index.ts';
import type { TrustRoot } from '../trust/index.ts';
import type { ObjectiveConfig, Payload, Verdict } from '../validation/index.ts';
import { openConnection } from './connection-options.ts';
import { buildCoreParts, type CoreParts, type SidecarDeps } from './core-parts.ts';
import { planReload, type ReloadOutcome, withLiveSettings } from './live-settings.ts';
import { SideListeners } from './side-listeners.ts';
import { configSnapshot, inventoryFields, tenantSnapshots } from './snapshot.ts';
import { countAcks, followConnection, lockStateDir, logTrust } from './start-steps.ts';
import { apiOptions, followerOptions, startedFields } from './subsystem-options.ts';
import { FILAMENT_VERSION } from './version.ts';

/**
 * The composition root of `filament run`: builds the subsystems from config, starts them in
 * dependency order (state dir → credentials and trust → last-known-good rules → local API →
 * `/metrics` → rule stream and saturation → broker) and stops them in reverse. `validate()` is
 * the in-process validation library; the gRPC API is another face over the same parts.
 */
export class Sidecar {
  /** The versioned rule store the hot path reads. */
  readonly store: RuleStore;
  /** The `[[models]]` list: what this host serves, or, with discovery, what it must serve. */
  readonly models: StaticModelInventory;
  /** What requests are judged against: `models`, or what the model server says it has loaded. */
  readonly inventory: ModelInventory;
  /** Serving status per gRPC health service name. */
  readonly health: HealthState;
  /** filament's Prometheus metrics. */
  readonly metrics: SidecarMetrics;
  private readonly core: CoreParts;
  private current: Config;
  private trust: TrustRoot | undefined;
  private connection: BrokerConnection | null = null;
  private follower: RuleFollower | null = null;
  private api: ApiServer | null = null;
  private side: SideListeners | null = null;
  private stopping: Promise<void> | null = null;
  private lock: StateDirLock | null = null;

  constructor(
    config: Config,
    private readonly deps: SidecarDeps = {},
  ) {
    this.current = config;
    this.core = buildCoreParts(config, deps, {
      config: () => this.current,
      broker: () => this.connection?.status(),
      trust: () => this.trust,
      tenants: () => this.tenants(),
      inventoryChanged: () => this.follower?.refreshServing(),
    });
    ({
      store: this.store,
      models: this.models,
      inventory: this.inventory,
      health: this.health,
      metrics: this.metrics,
    } = this.core);
  }

  /**
   * Opens the state directory, reads the files the config names, restores last-known-good rules,
   * binds the local API and `/metrics`, then follows the rule stream and measures saturation;
   * the broker connection starts last, in the background (an unreachable broker does not fail
   * start-up).
   * @throws {StateWriteError} when the state directory cannot be created.
   * @throws {StateDirLockedError} when another live sidecar holds the state directory.
   * @throws {ConfigError} when a file the config names (broker password, TLS, trusted keys) is unusable.
   * @throws {ApiBindError} when the API cannot listen (e.g. another sidecar owns the socket).
   */
  async start(): Promise<void> {
    const c = this.current;
    const { log, metrics, monitor, publisher, changes } = this.core;
    await this.core.state.open();
    this.lock = await lockStateDir(c, this.core.state, log);
    const secrets = await readBrokerFiles(c.broker);
    this.trust = await loadTrustRoot(c.rules.trustedKeyFiles, c.rules.signatureThreshold);
    this.core.applier.setTrust(this.trust);
    logTrust(log, this.trust);
    const connection = openConnection(c, secrets, this.core, this.deps);
    this.connection = connection;
    for (const p of [publisher, this.core.servable]) p.attach(connection);
    followConnection(connection, metrics, monitor, changes);
    const follower = new RuleFollower(followerOptions(c, connection, this.core));
    this.follower = follower;
    countAcks(follower, metrics, changes);
    await follower.restore();
    // The model server's first answer (bounded) before the API serves: no start-up refusals.
    await this.core.poller?.start();
    const api = apiOptions(c, this.core, () => this.snapshot());
    this.api = new ApiServer(api);
    await this.api.start();
    this.side = await SideListeners.start(c, {
      metrics,
      monitor,
      log,
      api,
      checks: this.core.checks,
    });
    follower.start();
    monitor.start();
    // Connecting builds the mqtt.js client (tens of ms in the binary): after start() returns, so
    // readiness (last-known-good rules + a bound socket) never waits for it.
    setImmediate(() => connection.start());
    log.info('sidecar started', startedFields(c));
  }

  /**
   * Stops in reverse order: health turns NOT_SERVING and a DRAINING report goes out, the rule
   * stream stops, in-flight API calls get up to `apiDeadlineMs` to finish, `/metrics` and the
   * collectors stop, a final OFFLINE report is published, and the broker connection closes
   * cleanly (so the will is not sent). Idempotent; concurrent calls share one stop.
   */
  stop(apiDeadlineMs = 5000): Promise<void> {
    const { health, changes, monitor, publisher, log } = this.core;
    this.stopping ??= (async () => {
      health.markStopping();
      changes.emit();
      monitor.publishNow();
      this.follower?.stop();
      await this.api?.stop(apiDeadlineMs);
      await this.side?.stop();
      monitor.stop();
      this.core.poller?.stop();
      await publisher.publishFinal(monitor.offlineReport());
      await this.connection?.stop();
      await this.lock?.release();
      log.info('sidecar stopped');
    })();
    return this.stopping;
  }

  /**
   * Applies a re-read config (SIGHUP): every change under `LIVE_SETTINGS` takes effect at once;
   * any other difference is left as it was and returned in `needsRestart`, so an operator sees
   * that the edit is not live yet instead of believing it is.
   */
  async reload(next: Config): Promise<ReloadOutcome> {
    const { live, changed, applied, needsRestart } = planReload(this.current, next);
    // Stopping: nothing may subscribe again; the next start reads the file anyway.
    if (this.stopping !== null) return { applied: [], needsRestart: changed };
    if (applied.length === 0) return { applied, needsRestart };
    this.current = withLiveSettings(this.current, next);
    for (const setting of live)
      await setting.apply({ ...this.core, follower: this.follower }, next);
    this.core.changes.emit();
    this.core.monitor.publishNow();
    return { applied, needsRestart };
  }

  /** Judges a request in-process, exactly as the gRPC Validate call does. */
  validate(config: ObjectiveConfig, payload?: Payload): Verdict {
    return this.core.validator.validate(config, payload);
  }

  /** Identity, broker, rules per configured tenant, loaded models. */
  snapshot(): ConfigSnapshot {
    return configSnapshot({
      config: this.current,
      filamentVersion: FILAMENT_VERSION,
      broker: this.connection?.status(),
      now: this.core.clock.now(),
      tenants: this.tenants(),
      ...inventoryFields(this.current, this.core),
      stopping: this.core.health.isStopping,
      trust: this.trust,
      checks: this.core.checks.counts(),
    });
  }

  /** The config in effect: the start-up config plus whatever {@linkcode reload} applied. */
  get config(): Config {
    return this.current;
  }

  /** The TCP port the API bound, when `api.listen` is set. */
  get apiTcpPort(): number | null {
    return this.api?.tcpPort ?? null;
  }

  /** The port `/metrics` listens on, or `null` when off or not bound. */
  get metricsPort(): number | null {
    return this.side?.metricsPort ?? null;
  }

  private tenants(): ConfigSnapshot['tenants'] {
    return tenantSnapshots(
      this.current.rules.tenants,
      this.core.store,
      (tenant) => this.follower?.lastAck(tenant),
      (tenant) => this.follower?.durability(tenant),
      (tenant) => this.core.servability.forAck(tenant),
    );
  }
}
