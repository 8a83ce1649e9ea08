import type { ApiServerOptions, ConfigSnapshot, HealthState } from '../api/index.ts';
import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import type { ModelInventory } from '../inventory/index.ts';
import type { StateStore } from '../last-known-good/index.ts';
import type { Logger } from '../log/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import type { MessageBus } from '../mqtt/index.ts';
import type { SaturationReport } from '../report/index.ts';
import type { CheckTally } from '../request-check/index.ts';
import type { RuleFollowerOptions } from '../rule-stream/index.ts';
import type { RuleApplier, RuleStore } from '../rules/index.ts';
import type { SaturationMonitorOptions } from '../saturation/index.ts';
import type { RequestValidatorOptions } from '../validation/index.ts';
import { type ApiBackendParts, apiBackend } from './api-backend.ts';
import { checkSettings, countCheckAnswer } from './check-counting.ts';
import { collectorsFromConfig } from './collectors-from-config.ts';
import type { ReportPublisher } from './report-publisher.ts';
import { ruleFreshness } from './rule-freshness.ts';
import type { ServabilityView } from './servability.ts';

/** The request validator's options from `[validation]` and the identity. */
export function validatorOptions(
  c: Config,
  parts: { readonly store: RuleStore; readonly models: ModelInventory },
): RequestValidatorOptions {
  return {
    store: parts.store,
    models: parts.models,
    cluster: c.identity.cluster,
    payloadLimits: {
      maxBytes: c.validation.maxPayloadBytes,
      maxDepth: c.validation.maxPayloadDepth,
    },
    defaultPayloadValidation: c.validation.payloadDefault,
  };
}

/** The rule follower's options: topics from `[broker]`, tenants from `[rules]`. */
export function followerOptions(
  c: Config,
  bus: MessageBus,
  parts: {
    readonly applier: RuleApplier;
    readonly store: RuleStore;
    readonly state: StateStore;
    readonly clock: Clock;
    readonly log: Logger;
    readonly servability: ServabilityView;
  },
): RuleFollowerOptions {
  return {
    bus,
    applier: parts.applier,
    store: parts.store,
    state: parts.state,
    topicPrefix: c.broker.topicPrefix,
    replica: c.identity.replica,
    cluster: c.identity.cluster,
    tenants: c.rules.tenants,
    clock: parts.clock,
    logger: parts.log.child('rules'),
    serving: (tenant) => parts.servability.forAck(tenant),
  };
}

/** What the saturation monitor is wired to besides `[saturation]`. */
export interface MonitorParts {
  /** The config in effect (rule age limits and tenants change on reload). */
  readonly config: () => Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly models: ModelInventory;
  readonly store: RuleStore;
  readonly draining: () => boolean;
  readonly metrics: SidecarMetrics;
  readonly publisher: ReportPublisher;
  /** The servable set last published (its seq and digest ride in every report). */
  readonly servable: () => { readonly seq: number; readonly digest: string } | undefined;
  /** Expected models the server disagrees with (the replica is UNHEALTHY while there are any). */
  readonly drift: () => ReadonlyArray<{ readonly id: string }>;
  /** The rules route keys here and none is servable now (the replica is not ready). */
  readonly servesNothing: () => boolean;
  /** Keys the request-path check refused "elsewhere" in the last minute (carried in reports). */
  readonly refusals: () => SaturationReport['refusals'];
}

/** The saturation monitor's options: collectors, thresholds and publish policy from `[saturation]`. */
export function monitorOptions(c: Config, parts: MonitorParts): SaturationMonitorOptions {
  const s = c.saturation;
  const { clock, metrics, publisher } = parts;
  return {
    replica: c.identity.replica,
    cluster: c.identity.cluster,
    clock,
    logger: parts.log.child('saturation'),
    thresholds: s.thresholds,
    publishPolicy: { heartbeatMs: s.heartbeatMs, minGapMs: s.minGapMs, scoreStep: s.scoreStep },
    evaluateMs: s.evaluateIntervalMs,
    collectors: collectorsFromConfig(s, {
      clock,
      models: parts.models,
      log: parts.log.child('canary'),
      onCanaryPassed: (ms, first) => {
        if (first) metrics.canaryFirstLatency.set(ms / 1000);
      },
    }),
    models: parts.models,
    rules: () => {
      const { rules } = parts.config();
      return ruleFreshness(rules.tenants, parts.store, clock.now(), rules.maxAgeSeconds * 1000);
    },
    draining: parts.draining,
    servable: parts.servable,
    drift: () => parts.drift().map((d) => d.id),
    servesNothing: parts.servesNothing,
    refusals: parts.refusals,
    publish: (report) => {
      if (publisher.publish(report)) metrics.reportsPublished.inc();
    },
    onCollectorUpdate: (collector, update) => {
      if (update.error !== undefined) metrics.collectorFailures.inc({ collector });
      for (const c of update.corrections ?? []) metrics.signalCorrections.inc({ signal: c.signal });
    },
  };
}

/** The local API's options from `[api]`, over the same parts as the in-process face. */
export function apiOptions(
  c: Config,
  core: Omit<ApiBackendParts, 'snapshot'> & {
    readonly health: HealthState;
    readonly log: Logger;
    readonly metrics: SidecarMetrics;
    readonly checks: CheckTally;
  },
  snapshot: () => ConfigSnapshot,
): ApiServerOptions {
  return {
    socketPath: c.api.socket,
    tcpListen: c.api.listen,
    backend: apiBackend({ ...core, snapshot }),
    health: core.health,
    logger: core.log.child('api'),
    // A payload at the validator's limit plus the ObjectiveConfig and framing around it.
    maxMessageBytes: c.validation.maxPayloadBytes + 64 * 1024,
    streamStallMs: c.api.streamStallMs,
    onStreamCancelled: (method, reason) => core.metrics.streamsCancelled.inc({ method, reason }),
    limits: {
      maxConnections: c.api.maxConnections,
      handshakeMs: c.api.handshakeTimeoutMs,
      idleMs: c.api.idleTimeoutMs,
    },
    onConnectionRefused: (listener, reason) =>
      core.metrics.connectionsRefused.inc({ listener, reason }),
    check: {
      settings: checkSettings(c),
      onAnswer: countCheckAnswer(c, core.metrics, core.checks),
    },
  };
}

/** The fields of the `sidecar started` log line. */
export function startedFields(c: Config): Record<string, unknown> {
  return {
    startedInMs: Math.round(performance.now()),
    replica: c.identity.replica,
    cluster: c.identity.cluster,
    tenants: c.rules.tenants,
    brokers: c.broker.urls,
    protocol: c.broker.protocol,
    socket: c.api.socket,
  };
}
