import type { ConfigSnapshot } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import type { LoadedModel } from '../inventory/index.ts';
import type { ConnectionStatus } from '../mqtt/index.ts';
import type { AckDocument, Durability } from '../rule-stream/index.ts';
import type { RuleStore } from '../rules/index.ts';
import type { TrustRoot } from '../trust/index.ts';

/** Rules per configured tenant: versions kept, high-water, last ACK, signers. */
export function tenantSnapshots(
  tenants: readonly string[],
  store: RuleStore,
  lastAck: (tenant: string) => AckDocument | undefined,
  durability: (tenant: string) => Durability | undefined,
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
  readonly stopping: boolean;
  readonly trust: TrustRoot | undefined;
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
    stopping: s.stopping,
    signatures: {
      trustedKeyIds: s.trust ? [...s.trust.keys.keys()] : [],
      threshold: s.trust?.threshold ?? 0,
    },
  };
}
