import type { DriftItem, LoadedModel, ServedModel } from '../inventory/index.ts';
import type { ConnectionStatus } from '../mqtt/index.ts';
import type { SaturationReport } from '../report/index.ts';
import type { CheckCounts } from '../request-check/index.ts';
import type { AckDocument, AckServing } from '../rule-stream/index.ts';
import type { PushedLoad } from '../saturation/index.ts';
import type { ObjectiveConfig, Payload, Verdict } from '../validation/index.ts';

/** Everything GetConfig and WatchConfig report, in domain terms. */
export interface ConfigSnapshot {
  readonly replica: string;
  readonly cluster: string;
  readonly filamentVersion: string;
  readonly broker: ConnectionStatus;
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    readonly activeVersion: number | null;
    readonly keptVersions: readonly number[];
    readonly highWater: number;
    readonly appliedAt: number | null;
    readonly lastAck: AckDocument | null;
    /** Trusted key ids that signed the active set; empty when it was not signature-checked. */
    readonly signedBy: readonly string[];
    /** The active set is on disk; false while saving it fails (it is retried). */
    readonly persisted: boolean;
    /** What this host can serve of the active set now; `null` without rules. */
    readonly serving: AckServing | null;
  }>;
  readonly models: readonly LoadedModel[];
  /** Where `models` comes from and whether it is trusted now. */
  readonly inventory: InventoryStatus;
  /** Expected models the server does not have as expected. */
  readonly drift: readonly DriftItem[];
  readonly stopping: boolean;
  /** The trusted key ids and threshold; no keys means rule sets are not signature-checked. */
  readonly signatures: { readonly trustedKeyIds: readonly string[]; readonly threshold: number };
  /** What the request-path check answered since start. */
  readonly checks: CheckCounts;
}

/** Where the loaded models come from, and whether that is trusted now. */
export interface InventoryStatus {
  readonly source: string;
  readonly endpoint: string;
  readonly confirmed: boolean;
  readonly unconfirmedReason: string | null;
  readonly lastAnswerAt: number | null;
}

/** What the filament.v1.Sidecar service needs from the rest of the sidecar. */
export interface SidecarBackend {
  validate(config: ObjectiveConfig, payload?: Payload): Verdict;
  snapshot(): ConfigSnapshot;
  /** Subscribes to config changes (rules, broker connection, stop); returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  /** Load pushed by the model server (ReportLoad). */
  pushLoad(load: PushedLoad): void;
  /** The current saturation report, or `null` before the first evaluation. */
  saturation(): SaturationReport | null;
  /**
   * What the model server declares it has loaded (DeclareModels): the whole list, or changes to
   * it; refused (with why) unless the inventory source is `push`.
   */
  declareModels(
    models: readonly ServedModel[],
    unloaded: readonly string[],
    changesOnly: boolean,
  ): { ok: true; models: number } | { ok: false; message: string };
  /** Subscribes to every published saturation report; returns the unsubscribe function. */
  onSaturation(listener: (report: SaturationReport) => void): () => void;
}
