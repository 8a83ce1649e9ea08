import type { ConfigSnapshot, InventoryStatus } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import type { DriftItem, LiveInventory, LoadedModel, ModelInventory } from '../inventory/index.ts';
import type { InventoryPoller } from '../inventory-sources/index.ts';
import type { ConnectionStatus } from '../mqtt/index.ts';
import type { CheckCounts } from '../request-check/index.ts';
import type { AckDocument, AckServing, Durability } from '../rule-stream/index.ts';
import type { RuleStore } from '../rules/index.ts';
import type { TrustRoot } from '../trust/index.ts';
import type { DriftMonitor } from './drift-monitor.ts';

/** Rules per configured tenant: versions kept, high-water, last ACK, signers. */
export function tenantSnapshots(
  tenants: readonly string[],
  store: RuleStore,
  lastAck: (tenant: string) => AckDocument | undefined,
  durability: (tenant: string) => Durability | undefined,
  serving: (tenant: string) => AckServing | undefined = () => undefined,
): ConfigSnapshot['tenants'] {
  return tenants.map((tenant) => {
    const rules = store.get(tenant);
    return {
      tenant,
      activeVersion: rules?.active.version ?? null,
      keptVersions: rules?.history.map((r) => r.version) ?? [],
      highWater: store.highWater(tenant),
      appliedAt: rules?.active.appliedAt ?? null,
      lastAck: lastAck(tenant) ?? null,
      signedBy: rules?.active.signedBy ?? [],
      persisted: durability(tenant)?.persisted ?? true,
      serving: serving(tenant) ?? null,
    };
  });
}

/** What {@linkcode configSnapshot} reads. */
export interface SnapshotSources {
  readonly config: Config;
  readonly filamentVersion: string;
  /** The broker connection, `undefined` before start (reported as idle since `now`). */
  readonly broker: ConnectionStatus | undefined;
  readonly now: number;
  readonly tenants: ConfigSnapshot['tenants'];
  readonly models: readonly LoadedModel[];
  readonly inventory: InventoryStatus;
  readonly drift: readonly DriftItem[];
  readonly stopping: boolean;
  readonly trust: TrustRoot | undefined;
  readonly checks: CheckCounts;
}

/** Identity, broker, rules per configured tenant, loaded models, signing policy. Pure. */
export function configSnapshot(s: SnapshotSources): ConfigSnapshot {
  return {
    replica: s.config.identity.replica,
    cluster: s.config.identity.cluster,
    filamentVersion: s.filamentVersion,
    broker: s.broker ?? { state: 'idle', url: null, reconnects: 0, since: s.now },
    tenants: s.tenants,
    models: s.models,
    inventory: s.inventory,
    drift: s.drift,
    stopping: s.stopping,
    signatures: {
      trustedKeyIds: s.trust ? [...s.trust.keys.keys()] : [],
      threshold: s.trust?.threshold ?? 0,
    },
    checks: s.checks,
  };
}

/** The loaded models, where they come from (`static`, `push` or the server kind) and whether they are trusted. */
export function inventoryFields(
  config: Config,
  parts: {
    readonly inventory: ModelInventory;
    readonly live: LiveInventory | null;
    readonly poller: InventoryPoller | null;
    readonly drift: DriftMonitor | null;
  },
): { models: readonly LoadedModel[]; inventory: InventoryStatus; drift: readonly DriftItem[] } {
  return {
    models: parts.inventory.list(),
    inventory: inventoryStatus(config, parts.live, parts.poller),
    drift: parts.drift?.current() ?? [],
  };
}

function inventoryStatus(
  config: Config,
  live: LiveInventory | null,
  poller: InventoryPoller | null,
): InventoryStatus {
  return {
    source: config.inventory.source,
    endpoint: poller?.description ?? (live ? live.source : 'the [[models]] list of the config'),
    confirmed: live === null || live.unconfirmedReason === null,
    unconfirmedReason: live?.unconfirmedReason ?? null,
    lastAnswerAt: poller?.lastSuccess ?? null,
  };
}
