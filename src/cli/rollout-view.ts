import type { ReplicaState } from '../report/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';

/** Where one replica following a tenant stands against the version being rolled out. */
export interface RolloutRow {
  readonly replica: string;
  readonly cluster: string;
  /** `current`: on the target; `nacked`: refused it; `behind`: on an older one and silent since. */
  readonly standing: 'current' | 'nacked' | 'behind' | 'offline';
  readonly activeVersion: number | null;
  /** The version it refused and why, when its last word was a NACK. */
  readonly nack: {
    readonly version: number | null;
    readonly code: string;
    readonly reason: string;
  } | null;
  /** Objectives of its cluster it cannot serve now, of how many (from its ACK). */
  readonly unservable: {
    readonly objectives: number;
    readonly of: number;
    readonly summary: string;
  } | null;
  /** Age of its last ACK, ms. */
  readonly ackAgeMs: number;
  /** Its saturation state, when it reports. */
  readonly state: ReplicaState | null;
}

/** One cluster's line: how many are on the target, and what holds the others back. */
export interface ClusterSummary {
  readonly cluster: string;
  readonly current: number;
  /** Replicas that count: all but those whose last report is OFFLINE. */
  readonly counted: number;
  readonly nacks: Readonly<Record<string, number>>;
  readonly behind: number;
  /** The longest a replica behind has been silent, ms. */
  readonly silentMs: number;
  readonly offline: number;
  /** Replicas on the target that cannot serve some of its objectives here. */
  readonly unservable: number;
}

/** A {@linkcode ClusterSummary} being counted. */
type Tally = { -readonly [K in keyof ClusterSummary]: ClusterSummary[K] } & {
  nacks: Record<string, number>;
};

/** The whole rollout picture of one tenant's version. */
export interface RolloutView {
  readonly tenant: string;
  /** The version being rolled out (the retained rule set's), `null` when none is retained. */
  readonly target: number | null;
  readonly rows: readonly RolloutRow[];
  readonly clusters: readonly ClusterSummary[];
  /** Of the counted replicas, the share on the target (1 when there are none). */
  readonly fraction: number;
}

/**
 * Where every replica that ACKs a tenant stands against `target`, from their retained ACKs and
 * (when known) their saturation state: on it, NACKed it (with the code), or behind and silent for
 * how long. A replica whose last report is OFFLINE is listed but not counted. Pure.
 */
export function rolloutView(input: {
  readonly tenant: string;
  readonly target: number | null;
  readonly acks: readonly AckDocument[];
  readonly states: ReadonlyMap<string, ReplicaState>;
  readonly now: number;
  readonly cluster?: string;
}): RolloutView {
  const rows: RolloutRow[] = [];
  for (const ack of input.acks) {
    if (ack.tenant !== input.tenant) continue;
    if (input.cluster !== undefined && ack.cluster !== input.cluster) continue;
    const state = input.states.get(`${ack.cluster}/${ack.replica}`) ?? null;
    const target = input.target ?? ack.activeVersion;
    const nacked = ack.status === 'rejected';
    const standing =
      state === 'OFFLINE'
        ? 'offline'
        : ack.activeVersion !== null && target !== null && ack.activeVersion >= target
          ? 'current'
          : // A NACK of a message it could not read a version from (too large, malformed) is of
            // the newest message it got: the retained one.
            nacked && (ack.receivedVersion === target || ack.receivedVersion === null)
            ? 'nacked'
            : 'behind';
    rows.push({
      replica: ack.replica,
      cluster: ack.cluster,
      standing,
      activeVersion: ack.activeVersion,
      nack: nacked
        ? { version: ack.receivedVersion, code: ack.code ?? '', reason: ack.reason ?? '' }
        : null,
      unservable:
        ack.serving && ack.serving.unservableObjectives > 0
          ? {
              objectives: ack.serving.unservableObjectives,
              of: ack.serving.objectives,
              summary: ack.serving.summary,
            }
          : null,
      ackAgeMs: Math.max(0, input.now - Date.parse(ack.at)),
      state,
    });
  }
  rows.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.replica.localeCompare(b.replica));
  const clusters = new Map<string, Tally>();
  for (const row of rows) {
    let c = clusters.get(row.cluster);
    if (!c) {
      c = {
        cluster: row.cluster,
        current: 0,
        counted: 0,
        nacks: {},
        behind: 0,
        silentMs: 0,
        offline: 0,
        unservable: 0,
      };
      clusters.set(row.cluster, c);
    }
    if (row.standing === 'offline') {
      c.offline++;
      continue;
    }
    c.counted++;
    if (row.standing === 'current') {
      c.current++;
      if (row.unservable) c.unservable++;
    } else if (row.standing === 'nacked') {
      const code = row.nack?.code ?? '?';
      c.nacks[code] = (c.nacks[code] ?? 0) + 1;
    } else {
      c.behind++;
      c.silentMs = Math.max(c.silentMs, row.ackAgeMs);
    }
  }
  const all = [...clusters.values()];
  const counted = all.reduce((n, c) => n + c.counted, 0);
  const current = all.reduce((n, c) => n + c.current, 0);
  return {
    tenant: input.tenant,
    target: input.target,
    rows,
    clusters: all,
    fraction: counted === 0 ? 1 : current / counted,
  };
}

/** `gpu-east: 118/120 on v7, 1 NACK DANGLING_REFERENCE, 1 silent 45 s`. */
export function describeCluster(c: ClusterSummary, target: number | null): string {
  const parts = [
    `${c.cluster}: ${c.current}/${c.counted} on ${target === null ? 'no version' : `v${target}`}`,
  ];
  for (const [code, n] of Object.entries(c.nacks)) parts.push(`${n} NACK ${code}`);
  if (c.behind > 0) parts.push(`${c.behind} silent ${Math.round(c.silentMs / 1000)} s`);
  if (c.unservable > 0) parts.push(`${c.unservable} cannot serve every objective`);
  if (c.offline > 0) parts.push(`${c.offline} offline (not counted)`);
  return parts.join(', ');
}
