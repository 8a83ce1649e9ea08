// msgpackr's main entry turns on its native string extractor (msgpackr-extract) where installed:
// large MessagePack rule sets decode ≈ 2.4× faster. The codec and the report contract import the
// pure-JS entries, so the resolver library never loads that native loader (it spawns processes).
import 'msgpackr';
import { type ConfigSnapshot, HealthState } from '../api/index.ts';
import { type Clock, systemClock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import { StateStore } from '../last-known-good/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { SidecarMetrics } from '../metrics/index.ts';
import type { BrokerConnection, ConnectionStatus, MqttConnectionOptions } from '../mqtt/index.ts';
import { CheckTally } from '../request-check/index.ts';
import { RuleApplier, RuleStore } from '../rules/index.ts';
import { SaturationMonitor } from '../saturation/index.ts';
import type { TrustRoot } from '../trust/index.ts';
import { RequestValidator } from '../validation/index.ts';
import { ChangeSignal } from './change-signal.ts';
import { buildInventoryParts, type InventoryParts } from './inventory-parts.ts';
import { MeteredValidator } from './metered-validator.ts';
import { ReportPublisher } from './report-publisher.ts';
import { ServablePublisher } from './servable-publisher.ts';
import { monitorOptions, validatorOptions } from './subsystem-options.ts';
import { FILAMENT_VERSION } from './version.ts';

/** What {@linkcode Sidecar} needs besides its config. */
export interface SidecarDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Makes the broker connection. Default: an {@linkcode MqttConnection}. */
  readonly connect?: (options: MqttConnectionOptions) => BrokerConnection;
}

/** What the core parts read from the running sidecar (set up at start, or changed by reload). */
export interface RunningView {
  readonly config: () => Config;
  readonly broker: () => ConnectionStatus | undefined;
  readonly trust: () => TrustRoot | undefined;
  readonly tenants: () => ConfigSnapshot['tenants'];
  /** What the model server has loaded changed (after watchers and the report were told). */
  readonly inventoryChanged: () => void;
}

/** The parts that exist from construction on, inert until the sidecar starts them. */
export interface CoreParts extends InventoryParts {
  readonly log: Logger;
  readonly clock: Clock;
  readonly store: RuleStore;
  readonly state: StateStore;
  readonly applier: RuleApplier;
  /** Publishes what this host can serve for resolvers whenever it changes. */
  readonly servable: ServablePublisher;
  readonly health: HealthState;
  readonly metrics: SidecarMetrics;
  readonly validator: MeteredValidator;
  readonly publisher: ReportPublisher;
  readonly monitor: SaturationMonitor;
  /** Config watchers (WatchConfig): rules, broker connection, stop. */
  readonly changes: ChangeSignal;
  /** What the request-path check answered since start (for `filament status`). */
  readonly checks: CheckTally;
}

/**
 * Builds the sidecar's parts from config, wired to each other but not started: nothing here
 * touches the disk, the network or a timer.
 */
export function buildCoreParts(config: Config, deps: SidecarDeps, running: RunningView): CoreParts {
  const log = deps.logger ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const store = new RuleStore(config.rules.historySize);
  const limits = { maxBytes: config.rules.maxMessageBytes, maxDepth: config.rules.maxDepth };
  const applier = new RuleApplier(store, {
    limits,
    now: () => clock.now(),
    maxClockSkewMs: config.rules.maxClockSkewSeconds * 1000,
  });
  const parts = buildInventoryParts(config, store, clock, log, {
    metrics: () => metrics,
    // What the server has changed what this host can serve: watchers and resolvers hear at once.
    changed: () => {
      changes.emit();
      monitor.publishNow();
      running.inventoryChanged();
    },
    driftChanged: () => {
      changes.emit();
      monitor.publishNow();
    },
  });
  const { inventory, live, drift, servability } = parts;
  const servable = new ServablePublisher({
    topicPrefix: config.broker.topicPrefix,
    cluster: config.identity.cluster,
    replica: config.identity.replica,
    servability,
    tenants: () => running.config().rules.tenants,
    confirmed: () => live === null || live.unconfirmedReason === null,
    clock,
  });
  const health = new HealthState(store, config.rules.tenants);
  const changes = new ChangeSignal();
  const metrics: SidecarMetrics = new SidecarMetrics({
    tenants: running.tenants,
    brokerConnected: () => running.broker()?.state === 'connected',
    trustedKeys: () => running.trust()?.keys.size ?? 0,
    saturation: () => monitor.current(),
    collectorAges: () => monitor.collectorAges(),
    identity: () => ({
      replica: config.identity.replica,
      cluster: config.identity.cluster,
      version: FILAMENT_VERSION,
    }),
    inventory: () =>
      live && {
        confirmed: live.unconfirmedReason === null,
        models: live.served().length,
        drift: drift?.current() ?? [],
      },
  });
  const validator = new MeteredValidator(
    new RequestValidator(validatorOptions(config, { store, models: inventory })),
    metrics,
  );
  const publisher = new ReportPublisher({
    topicPrefix: config.broker.topicPrefix,
    cluster: config.identity.cluster,
    replica: config.identity.replica,
    expirySeconds: config.saturation.reportExpirySeconds,
  });
  const checks = new CheckTally();
  const monitor: SaturationMonitor = new SaturationMonitor(
    monitorOptions(config, {
      config: running.config,
      draining: () => health.isStopping,
      clock,
      log,
      models: inventory,
      store,
      metrics,
      publisher,
      servable: () => servable.current(),
      drift: () => drift?.current() ?? [],
      servesNothing: () => servability.servesNothing(running.config().rules.tenants),
      // Wall time, as the check records it (the window is a minute of real requests).
      refusals: () => checks.refusedKeys(Date.now()),
    }),
  );
  // Rules, the inventory, the tenant list or the connection changed: resolvers hear of a
  // different servable set at once (its digest rides in the report).
  changes.subscribe(() => {
    if (servable.refresh()) monitor.publishNow();
  });
  store.onChange(() =>
    // Right after the swap, not inside it: the new rules are in force the moment the store holds
    // them, and working out what is servable (every objective, ≈ 2 ms for 11,500) and the report
    // must not hold that moment up.
    queueMicrotask(() => {
      changes.emit();
      // Reports carry the applied versions (resolvers steer away from stale hosts): tell at once.
      monitor.publishNow();
    }),
  );
  const state = new StateStore(config.state.dir, {
    topicPrefix: config.broker.topicPrefix,
    trust: () => trustFingerprint(running.trust()),
  });
  return {
    log,
    clock,
    store,
    state,
    applier,
    ...parts,
    servable,
    health,
    metrics,
    validator,
    publisher,
    monitor,
    changes,
    checks,
  };
}

/** `none`, or the sorted trusted key ids and the threshold: what a record was accepted under. */
function trustFingerprint(trust: TrustRoot | undefined): string {
  return trust ? `${[...trust.keys.keys()].sort().join(',')}/${trust.threshold}` : 'none';
}
