import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import {
  LiveInventory,
  type ModelInventory,
  type ServedModel,
  StaticModelInventory,
  servedName,
} from '../inventory/index.ts';
import { describeEndpoint, InventoryPoller, type WantedModel } from '../inventory-sources/index.ts';
import type { Logger } from '../log/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import type { RuleStore } from '../rules/index.ts';
import { DriftMonitor } from './drift-monitor.ts';
import { ServabilityView } from './servability.ts';

/** What a model server declares over DeclareModels, and what came of it. */
export type Declare = (
  models: readonly ServedModel[],
  unloaded: readonly string[],
  changesOnly: boolean,
) => { ok: true; models: number } | { ok: false; message: string };

/** Where the models this host can serve come from, and what follows from them. */
export interface InventoryParts {
  /** The `[[models]]` list: what this host serves, or, with discovery, what it must serve. */
  readonly models: StaticModelInventory;
  /** What requests are judged against: the `[[models]]` list, or what the server says it has. */
  readonly inventory: ModelInventory;
  /** What the model server says it has loaded (discovery or push), else `null`. */
  readonly live: LiveInventory | null;
  /** Asks the model server what it has loaded, when the inventory source is a server kind. */
  readonly poller: InventoryPoller | null;
  /** With discovery: where the server disagrees with what `[[models]]` says it must serve. */
  readonly drift: DriftMonitor | null;
  /** What this host can serve of each tenant's active version, now. */
  readonly servability: ServabilityView;
  /** Takes what the model server declares (`inventory.source = "push"`). */
  readonly declare: Declare;
}

/** Hooks into the rest of the sidecar (built after these parts). */
export interface InventoryHooks {
  readonly metrics: () => SidecarMetrics;
  /** What the server has loaded changed: watchers, reports, ACKs and servable sets follow. */
  readonly changed: () => void;
  /** The drift changed: watchers and reports follow. */
  readonly driftChanged: () => void;
}

/** Builds the inventory side of the sidecar from `[inventory]` and `[[models]]`; starts nothing. */
export function buildInventoryParts(
  config: Config,
  store: RuleStore,
  clock: Clock,
  log: Logger,
  hooks: InventoryHooks,
): InventoryParts {
  const c = config.inventory;
  const models = new StaticModelInventory(config.models);
  const endpoint =
    c.url !== null && c.source !== 'static' && c.source !== 'push'
      ? { kind: c.source, url: c.url, ...(c.generic ? { generic: c.generic } : {}) }
      : null;
  const live =
    c.source === 'static'
      ? null
      : new LiveInventory(endpoint ? describeEndpoint(endpoint) : 'the model server (push)');
  const drift =
    live &&
    new DriftMonitor(models, live, config.saturation.thresholds.warmupMs, clock, log, () =>
      hooks.driftChanged(),
    );
  const changed = () => {
    hooks.metrics().inventoryChanges.inc();
    hooks.changed();
  };
  const poller =
    live && endpoint
      ? new InventoryPoller({
          endpoint,
          inventory: live,
          intervalMs: c.pollIntervalMs,
          limits: { timeoutMs: c.timeoutMs, maxBytes: c.maxBytes },
          keepLastGoodMs: c.keepLastGoodMs,
          clock,
          logger: log.child('inventory'),
          onPoll: (ok) => {
            hooks.metrics().inventoryPolls.inc({ outcome: ok ? 'ok' : 'failed' });
            drift?.check();
          },
          onChange: changed,
          wanted: () => wantedHere(store, config.identity.cluster),
        })
      : null;
  const inventory: ModelInventory = live ?? models;
  const declare: Declare = (declared, unloaded, changesOnly) => {
    if (live === null || c.source !== 'push')
      return {
        ok: false,
        message: `inventory.source is "${c.source}": ${c.source === 'static' ? 'the [[models]] list of the config says' : 'filament asks the model server itself'} what is loaded; set inventory.source = "push" to declare it`,
      };
    const next = changesOnly ? merge(live.served(), declared, unloaded) : declared;
    if (live.replace(next)) {
      log.info('model server declared its models', { models: next.length, changesOnly });
      changed();
    }
    drift?.check();
    return { ok: true, models: next.length };
  };
  return {
    models,
    inventory,
    live,
    poller,
    drift,
    servability: new ServabilityView(store, inventory, config.identity.cluster),
    declare,
  };
}

/** The declared changes applied to the current list: unloaded names go, declared ones replace. */
function merge(
  current: readonly ServedModel[],
  declared: readonly ServedModel[],
  unloaded: readonly string[],
): ServedModel[] {
  const key = (m: ServedModel) => `${m.name}\u0000${m.parent ?? ''}`;
  const gone = new Set(unloaded);
  const replaced = new Set(declared.map(key));
  return [...current.filter((m) => !gone.has(m.name) && !replaced.has(key(m))), ...declared];
}

/** The models the active rules of every tenant route to this cluster, as the server names them. */
function wantedHere(store: RuleStore, cluster: string): WantedModel[] {
  const wanted = new Map<string, WantedModel>();
  for (const tenant of store.tenantNames()) {
    const rules = store.get(tenant)?.history[0];
    if (rules === undefined) continue;
    for (const model of rules.models.values()) {
      if (model.cluster !== cluster) continue;
      const name = servedName(model);
      const revision = model.served?.revision;
      wanted.set(`${name}\u0000${revision ?? ''}`, { name, ...(revision ? { revision } : {}) });
    }
  }
  return [...wanted.values()];
}
