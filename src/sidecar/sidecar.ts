import { ApiServer, type ConfigSnapshot, HealthState, type SidecarBackend } from '../api/index.ts';
import { type Clock, systemClock } from '../clock/index.ts';
import { type Config, configDifferences } from '../config/index.ts';
import { loadTrustRoot, readBrokerFiles } from '../credentials/index.ts';
import { StateStore } from '../last-known-good/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { MetricsServer, SidecarMetrics } from '../metrics/index.ts';
import { MqttConnection, replicaTopic } from '../mqtt/index.ts';
import { encodeReport, type SaturationReport } from '../report/index.ts';
import { RuleFollower } from '../rule-stream/index.ts';
import { RuleApplier, RuleStore } from '../rules/index.ts';
import {
  genericPreset,
  METRIC_PRESETS,
  type PushedLoad,
  SaturationMonitor,
} from '../saturation/index.ts';
import type { TrustRoot } from '../trust/index.ts';
import {
  type ObjectiveConfig,
  type Payload,
  RequestValidator,
  StaticModelInventory,
  type Verdict,
} from '../validation/index.ts';
import { ruleFreshness } from './rule-freshness.ts';
import { FILAMENT_VERSION } from './version.ts';

/** What a config reload did: dotted paths applied live, and those that need a restart. */
export interface ReloadOutcome {
  readonly applied: readonly string[];
  readonly needsRestart: readonly string[];
}

/** Config paths {@linkcode Sidecar.reload} applies without a restart. */
const RELOADABLE = [
  'log',
  'models',
  'rules.tenants',
  'rules.maxAgeSeconds',
  'saturation.thresholds',
] as const;
const isUnder = (path: string, key: string) => path === key || path.startsWith(`${key}.`);

/** What {@linkcode Sidecar} needs besides its config. */
export interface SidecarDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
}

/**
 * The composition root of `filament run`: builds the subsystems from config, starts them in
 * dependency order (state dir → last-known-good rules → local API → broker → rule stream) and
 * stops them in reverse. It is also the backend of the gRPC API and, for TypeScript model
 * servers, the in-process validation library (`validate`).
 */
export class Sidecar implements SidecarBackend {
  readonly store: RuleStore;
  readonly models: StaticModelInventory;
  readonly health: HealthState;
  private readonly validator: RequestValidator;
  private readonly state: StateStore;
  private readonly applier: RuleApplier;
  private connection: MqttConnection | null = null;
  private follower: RuleFollower | null = null;
  private api: ApiServer | null = null;
  private monitor: SaturationMonitor | null = null;
  private metricsServer: MetricsServer | null = null;
  readonly metrics: SidecarMetrics;
  private readonly changeListeners = new Set<() => void>();
  private readonly log: Logger;
  private readonly clock: Clock;
  private stopping: Promise<void> | null = null;
  private trust: TrustRoot | undefined;

  private current: Config;

  constructor(
    config: Config,
    private readonly deps: SidecarDeps = {},
  ) {
    this.current = config;
    this.log = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.store = new RuleStore(config.rules.historySize);
    this.state = new StateStore(config.state.dir);
    const limits = { maxBytes: config.rules.maxMessageBytes, maxDepth: config.rules.maxDepth };
    this.applier = new RuleApplier(this.store, { limits, now: () => this.clock.now() });
    this.models = new StaticModelInventory(config.models);
    this.validator = new RequestValidator({
      store: this.store,
      models: this.models,
      cluster: config.identity.cluster,
      payloadLimits: {
        maxBytes: config.validation.maxPayloadBytes,
        maxDepth: config.validation.maxPayloadDepth,
      },
      defaultPayloadValidation: config.validation.payloadDefault,
    });
    this.health = new HealthState(this.store, config.rules.tenants);
    this.metrics = new SidecarMetrics({
      tenants: () => this.snapshot().tenants,
      brokerConnected: () => this.connection?.status().state === 'connected',
      trustedKeys: () => this.trust?.keys.size ?? 0,
      saturation: () => this.monitor?.current() ?? null,
      collectorAges: () => this.monitor?.collectorAges() ?? [],
    });
    this.store.onChange(() => {
      this.changed();
      // Reports carry the applied versions (resolvers steer away from stale hosts): tell at once.
      this.monitor?.publishNow();
    });
  }

  /**
   * Opens the state directory, restores last-known-good rules, binds the local API, then connects
   * to the broker in the background (an unreachable broker does not fail start-up) and follows
   * the rule stream.
   * @throws {StateWriteError} when the state directory cannot be created.
   * @throws {ApiBindError} when the API cannot listen (e.g. another sidecar owns the socket).
   * @throws {ConfigError} when a file the config names (broker password, TLS, trusted keys) is unusable.
   */
  async start(): Promise<void> {
    const c = this.config;
    await this.state.open();
    const { password, tls } = await readBrokerFiles(c.broker);
    this.trust = await loadTrustRoot(c.rules.trustedKeyFiles, c.rules.signatureThreshold);
    this.applier.setTrust(this.trust);
    if (this.trust === undefined)
      this.log.warn(
        'rule sets are NOT signature-checked: no trusted keys configured (rules.trusted_keys); anyone who can publish to the rules topics controls this host',
      );
    else
      this.log.info('rule sets must be signed', {
        trustedKeyIds: [...this.trust.keys.keys()],
        threshold: this.trust.threshold,
      });
    this.monitor = this.createMonitor();
    const reportTopic = replicaTopic(c.broker.topicPrefix, c.identity.cluster, c.identity.replica);
    const reportOptions = {
      contentType: 'application/msgpack',
      messageExpirySeconds: c.saturation.reportExpirySeconds,
    };
    const monitor = this.monitor;
    this.connection = new MqttConnection({
      will: () => ({
        topic: reportTopic,
        payload: encodeReport(monitor.offlineReport()),
        retain: true,
        ...reportOptions,
      }),
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
      clock: this.clock,
      ...(this.deps.random ? { random: this.deps.random } : {}),
      logger: this.log.child('mqtt'),
    });
    let reconnects = 0;
    let wasConnected = false;
    this.connection.onStatus((status) => {
      if (status.reconnects > reconnects)
        this.metrics.brokerReconnects.inc(status.reconnects - reconnects);
      reconnects = status.reconnects;
      const connected = status.state === 'connected';
      // On every (re)connection, report at once: the broker may have published our OFFLINE will
      // for the connection that was lost, and resolvers should not wait for the heartbeat.
      if (connected && !wasConnected) this.monitor?.publishNow();
      wasConnected = connected;
      this.changed();
    });
    this.publishReport = (report) => {
      this.metrics.reportsPublished.inc();
      void this.connection?.publishRetained(reportTopic, encodeReport(report), reportOptions);
    };
    this.follower = new RuleFollower({
      bus: this.connection,
      applier: this.applier,
      store: this.store,
      state: this.state,
      topicPrefix: c.broker.topicPrefix,
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      tenants: c.rules.tenants,
      clock: this.clock,
      logger: this.log.child('rules'),
    });
    this.follower.onAck((ack) => {
      this.metrics.ruleMessages.inc({ tenant: ack.tenant, status: ack.status });
      if (ack.status === 'rejected')
        this.metrics.ruleRejections.inc({ tenant: ack.tenant, code: ack.code ?? 'UNKNOWN' });
      this.changed();
    });
    await this.follower.restore();
    this.api = new ApiServer({
      socketPath: c.api.socket,
      tcpListen: c.api.listen,
      backend: this,
      health: this.health,
      logger: this.log.child('api'),
    });
    await this.api.start();
    await this.startMetricsServer();
    this.follower.start();
    this.monitor.start();
    // Connecting builds the mqtt.js client (tens of ms in the binary): after start() returns, so
    // readiness (last-known-good rules + a bound socket) never waits for it.
    const connection = this.connection;
    setImmediate(() => connection.start());
    this.log.info('sidecar started', {
      startedInMs: Math.round(performance.now()),
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      tenants: c.rules.tenants,
      brokers: c.broker.urls,
      protocol: c.broker.protocol,
      socket: c.api.socket,
    });
  }

  /**
   * Stops in reverse order: health turns NOT_SERVING and a DRAINING report goes out, the rule
   * stream stops, in-flight API calls get up to `apiDeadlineMs` to finish, a final OFFLINE report
   * is published, and the broker connection closes cleanly (so the will is not sent). Idempotent;
   * concurrent calls share one stop.
   */
  stop(apiDeadlineMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      this.health.markStopping();
      this.changed();
      this.monitor?.publishNow();
      this.follower?.stop();
      await this.api?.stop(apiDeadlineMs);
      await this.metricsServer?.stop();
      this.monitor?.stop();
      await this.publishFinalReport();
      await this.connection?.stop();
      this.log.info('sidecar stopped');
    })();
    return this.stopping;
  }

  /** The config in effect: the start-up config plus whatever {@linkcode reload} applied. */
  get config(): Config {
    return this.current;
  }

  /**
   * Applies a re-read config (SIGHUP). The log level, the model list, the followed tenants (new
   * ones restored from disk, then subscribed), the rule age limit and the saturation thresholds
   * take effect at once; any other difference is left as it was and returned in `needsRestart`,
   * so an operator sees that the edit is not live yet instead of believing it is.
   */
  async reload(next: Config): Promise<ReloadOutcome> {
    const changed = configDifferences(this.current, next);
    const applied = changed.filter((path) => RELOADABLE.some((key) => isUnder(path, key)));
    const needsRestart = changed.filter((path) => !applied.includes(path));
    // Stopping: nothing may subscribe again; the next start reads the file anyway.
    if (this.stopping !== null) return { applied: [], needsRestart: changed };
    if (applied.length === 0) return { applied, needsRestart };
    const was = this.current;
    this.current = {
      ...was,
      log: next.log,
      models: next.models,
      rules: { ...was.rules, tenants: next.rules.tenants, maxAgeSeconds: next.rules.maxAgeSeconds },
      saturation: { ...was.saturation, thresholds: next.saturation.thresholds },
    };
    this.log.setLevel(next.log.level);
    this.models.replace(next.models);
    this.monitor?.setThresholds(next.saturation.thresholds);
    await this.follower?.followTenants(next.rules.tenants);
    this.health.setTenants(next.rules.tenants);
    this.changed();
    this.monitor?.publishNow();
    return { applied, needsRestart };
  }

  /** The TCP port the API bound, when `api.listen` is set. */
  get apiTcpPort(): number | null {
    return this.api?.tcpPort ?? null;
  }

  /** Judges a request in-process, exactly as the gRPC Validate call does. */
  validate(config: ObjectiveConfig, payload?: Payload): Verdict {
    const started = performance.now();
    const verdict = this.validator.validate(config, payload);
    this.metrics.validationSeconds.observe((performance.now() - started) / 1000);
    this.metrics.validations.inc({ result: verdict.ok ? 'ok' : verdict.code });
    return verdict;
  }

  /** Identity, broker, rules per configured tenant, loaded models. */
  snapshot(): ConfigSnapshot {
    const c = this.config;
    return {
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      filamentVersion: FILAMENT_VERSION,
      broker: this.connection?.status() ?? {
        state: 'idle',
        url: null,
        reconnects: 0,
        since: this.clock.now(),
      },
      tenants: c.rules.tenants.map((tenant) => {
        const rules = this.store.get(tenant);
        return {
          tenant,
          activeVersion: rules?.active.version ?? null,
          keptVersions: rules?.history.map((r) => r.version) ?? [],
          highWater: this.store.highWater(tenant),
          appliedAt: rules?.active.appliedAt ?? null,
          lastAck: this.follower?.lastAck(tenant) ?? null,
          signedBy: rules?.active.signedBy ?? [],
        };
      }),
      models: this.models.list(),
      stopping: this.health.isStopping,
      signatures: {
        trustedKeyIds: this.trust ? [...this.trust.keys.keys()] : [],
        threshold: this.trust?.threshold ?? 0,
      },
    };
  }

  /** The latest saturation report of this replica, or `null` before the first evaluation. */
  saturation(): SaturationReport | null {
    return this.monitor?.current() ?? null;
  }

  /** Subscribes to every published saturation report; returns the unsubscribe function. */
  onSaturation(listener: (report: SaturationReport) => void): () => void {
    if (!this.monitor) return () => {};
    return this.monitor.onReport(listener);
  }

  /** Load pushed by the model server (ReportLoad), merged into the saturation signals. */
  pushLoad(load: PushedLoad): void {
    this.monitor?.pushLoad(load);
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private publishReport: (report: SaturationReport) => void = () => {};

  /** The port `/metrics` listens on, or `null` when off or not bound. */
  get metricsPort(): number | null {
    return this.metricsServer?.port ?? null;
  }

  /**
   * Serves `/metrics` when configured. A port that cannot be bound is logged, not fatal: losing
   * metrics must not take the validation service down with it.
   */
  private async startMetricsServer(): Promise<void> {
    const listen = this.config.metrics.listen;
    if (listen === null) return;
    const server = new MetricsServer(
      listen,
      () => this.metrics.text(),
      this.metrics.registry.contentType,
    );
    try {
      await server.start();
      this.metricsServer = server;
      this.log.info('metrics listening', {
        url: `http://${listen.replace(/:\d+$/, `:${server.port}`)}/metrics`,
      });
    } catch (error) {
      this.log.error('metrics endpoint not started', { error });
    }
  }

  private createMonitor(): SaturationMonitor {
    const c = this.config;
    const s = c.saturation;
    const preset =
      s.preset === 'generic'
        ? genericPreset(s.generic)
        : (METRIC_PRESETS[s.preset] as NonNullable<(typeof METRIC_PRESETS)[string]>);
    return new SaturationMonitor({
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      clock: this.clock,
      logger: this.log.child('saturation'),
      thresholds: s.thresholds,
      publishPolicy: { heartbeatMs: s.heartbeatMs, minGapMs: s.minGapMs, scoreStep: s.scoreStep },
      evaluateMs: s.evaluateIntervalMs,
      ...(s.metricsUrl
        ? {
            metrics: {
              url: s.metricsUrl,
              preset,
              intervalMs: s.scrapeIntervalMs,
              timeoutMs: s.scrapeTimeoutMs,
            },
          }
        : {}),
      ...(s.readinessUrl
        ? {
            readiness: {
              url: s.readinessUrl,
              intervalMs: s.readinessIntervalMs,
              timeoutMs: s.scrapeTimeoutMs,
            },
          }
        : {}),
      nvidiaSmi:
        s.nvidiaSmi === 'off'
          ? null
          : {
              binary: s.nvidiaSmi === 'auto' ? 'nvidia-smi' : s.nvidiaSmi,
              intervalMs: s.nvidiaSmiIntervalMs,
            },
      models: this.models,
      rules: () =>
        ruleFreshness(
          this.config.rules.tenants,
          this.store,
          this.clock.now(),
          this.config.rules.maxAgeSeconds * 1000,
        ),
      draining: () => this.health.isStopping,
      publish: (report) => this.publishReport(report),
      onCollectorUpdate: (collector, state) => {
        if (state.error !== undefined) this.metrics.collectorFailures.inc({ collector });
      },
    });
  }

  /** Publishes OFFLINE (retained) before a clean disconnect, waiting at most 2 s for the broker. */
  private async publishFinalReport(): Promise<void> {
    const c = this.config;
    if (!this.monitor || !this.connection || this.connection.status().state !== 'connected') return;
    const topic = replicaTopic(c.broker.topicPrefix, c.identity.cluster, c.identity.replica);
    const sent = this.connection.publishRetained(
      topic,
      encodeReport(this.monitor.offlineReport()),
      {
        contentType: 'application/msgpack',
        messageExpirySeconds: c.saturation.reportExpirySeconds,
      },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([sent, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
  }

  private changed(): void {
    for (const listener of [...this.changeListeners]) listener();
  }
}

/** Reads a secret from a file (e.g. a systemd credential), without its trailing newline. */
