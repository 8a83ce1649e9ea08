import type { ReplicaState } from '../report/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';

/**
 * Where one replica following a tenant stands against the version being rolled out:
 * `current` on it; `ahead` on a newer one (the retained set is older than what it runs);
 * `nacked` refused it; `behind` on an older one and silent since; `offline` its last report says
 * it stopped; `gone` no live report (stopped, decommissioned or cut off) — the last two not counted.
 */
export type Standing = 'current' | 'ahead' | 'nacked' | 'behind' | 'offline' | 'gone';

/** Where one replica following a tenant stands against the version being rolled out. */
export interface RolloutRow {
  readonly replica: string;
  readonly cluster: string;
  readonly standing: Standing;
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

/** A replica's last saturation report, as far as the rollout needs it. */
export interface ReportSeen {
  readonly state: ReplicaState;
  /** When it was made, ms since the epoch (the report's `t`). */
  readonly at: number;
  /** Its heartbeat interval, ms (the report's `hb`; absent: 5 s). */
  readonly heartbeatMs?: number;
}

/** What {@linkcode isLive} needs of a decoded report. Pure. */
export function reportSeen(report: {
  readonly state: ReplicaState;
  readonly at: number;
  readonly heartbeatMs?: number;
}): ReportSeen {
  return {
    state: report.state,
    at: report.at,
    ...(report.heartbeatMs !== undefined ? { heartbeatMs: report.heartbeatMs } : {}),
  };
}

/**
 * A report older than three heartbeats, and at least a minute (room for the clocks of the host
 * and of whoever asks to differ), is no sign of life.
 */
export function isLive(report: ReportSeen | undefined, now: number): boolean {
  if (report === undefined || report.state === 'OFFLINE') return false;
  return now - report.at <= Math.max(3 * (report.heartbeatMs ?? 5_000), 60_000);
}

/** One cluster's line: how many are on the target, and what holds the others back. */
export interface ClusterSummary {
  readonly cluster: string;
  readonly current: number;
  /** Replicas that count: those with a live report. */
  readonly counted: number;
  readonly nacks: Readonly<Record<string, number>>;
  readonly behind: number;
  /** Replicas that run a newer version than the target. */
  readonly ahead: number;
  /** The longest a replica behind has been silent, ms. */
  readonly silentMs: number;
  readonly offline: number;
  /** Replicas with an ACK but no live report. */
  readonly gone: number;
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
  /** The newest version counted replicas run, when it is newer than the target. */
  readonly newerInUse: { readonly version: number; readonly replicas: number } | null;
}

/**
 * Where every replica that ACKs a tenant stands against `target`, from their retained ACKs and
 * their last reports: on it, ahead of it, NACKed it (with the code), or behind and silent for how
 * long. Only replicas with a live report ({@linkcode isLive}) count. Pure.
 */
export function rolloutView(input: {
  readonly tenant: string;
  readonly target: number | null;
  readonly acks: readonly AckDocument[];
  readonly reports: ReadonlyMap<string, ReportSeen>;
  readonly now: number;
  readonly cluster?: string;
}): RolloutView {
  const rows: RolloutRow[] = [];
  for (const ack of input.acks) {
    if (ack.tenant !== input.tenant) continue;
    if (input.cluster !== undefined && ack.cluster !== input.cluster) continue;
    const report = input.reports.get(`${ack.cluster}/${ack.replica}`);
    rows.push({
      replica: ack.replica,
      cluster: ack.cluster,
      standing: standingOf(ack, report, input.target, input.now),
      activeVersion: ack.activeVersion,
      nack:
        ack.status === 'rejected'
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
      state: report?.state ?? null,
    });
  }
  rows.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.replica.localeCompare(b.replica));
  const all = tally(rows);
  const counted = all.reduce((n, c) => n + c.counted, 0);
  const current = all.reduce((n, c) => n + c.current, 0);
  const ahead = rows.filter((r) => r.standing === 'ahead');
  const newest = Math.max(...ahead.map((r) => r.activeVersion ?? 0));
  return {
    tenant: input.tenant,
    target: input.target,
    rows,
    clusters: all,
    fraction: counted === 0 ? 1 : current / counted,
    newerInUse:
      ahead.length === 0
        ? null
        : { version: newest, replicas: ahead.filter((r) => r.activeVersion === newest).length },
  };
}

function standingOf(
  ack: AckDocument,
  report: ReportSeen | undefined,
  target: number | null,
  now: number,
): Standing {
  if (report?.state === 'OFFLINE') return 'offline';
  if (!isLive(report, now)) return 'gone';
  const goal = target ?? ack.activeVersion;
  if (ack.activeVersion !== null && goal !== null) {
    if (ack.activeVersion === goal) return 'current';
    if (ack.activeVersion > goal) return 'ahead';
  }
  // A NACK of a message it could not read a version from (too large, malformed) is of the newest
  // message it got: the retained one.
  const nacked =
    ack.status === 'rejected' && (ack.receivedVersion === goal || ack.receivedVersion === null);
  return nacked ? 'nacked' : 'behind';
}

function tally(rows: readonly RolloutRow[]): Tally[] {
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
        ahead: 0,
        silentMs: 0,
        offline: 0,
        gone: 0,
        unservable: 0,
      };
      clusters.set(row.cluster, c);
    }
    if (row.standing === 'offline' || row.standing === 'gone') {
      c[row.standing]++;
      continue;
    }
    c.counted++;
    if (row.standing === 'current') {
      c.current++;
      if (row.unservable) c.unservable++;
    } else if (row.standing === 'nacked') {
      const code = row.nack?.code ?? '?';
      c.nacks[code] = (c.nacks[code] ?? 0) + 1;
    } else if (row.standing === 'ahead') {
      c.ahead++;
    } else {
      c.behind++;
      c.silentMs = Math.max(c.silentMs, row.ackAgeMs);
    }
  }
  return [...clusters.values()];
}

/** What a rollout gate asks for. */
export interface GateSettings {
  /** The share of counted replicas that must be on the target. */
  readonly minFraction: number;
  /** How many counted replicas may have NACKed the target (default 0). */
  readonly maxNacks: number;
}

/**
 * Whether the rollout is done as `settings` ask, and if not every reason why: no live replica,
 * NACKs of the target, a retained version older than what replicas run, too few on it. Pure.
 */
export function rolloutGate(
  view: RolloutView,
  settings: GateSettings,
): { met: boolean; problems: string[] } {
  const problems: string[] = [];
  const counted = view.clusters.reduce((n, c) => n + c.counted, 0);
  if (counted === 0)
    problems.push(
      `no live replica follows tenant "${view.tenant}" (${view.rows.length} ACKed it: stopped, or without a report in the last minute)`,
    );
  const nacks: Record<string, number> = {};
  for (const c of view.clusters)
    for (const [code, n] of Object.entries(c.nacks)) nacks[code] = (nacks[code] ?? 0) + n;
  const nacked = Object.values(nacks).reduce((a, b) => a + b, 0);
  if (nacked > settings.maxNacks)
    problems.push(
      `${nacked} replica(s) refused v${view.target} (${Object.entries(nacks)
        .map(([code, n]) => `${code} ×${n}`)
        .join(', ')}), ${settings.maxNacks} allowed`,
    );
  if (view.newerInUse !== null)
    problems.push(
      `the retained v${view.target} is older than v${view.newerInUse.version}, which ${view.newerInUse.replicas} replica(s) run: they refuse it (VERSION_REGRESSION) and a new host would start on v${view.target}; publish a version above ${view.newerInUse.version}`,
    );
  if (counted > 0 && view.fraction < settings.minFraction)
    problems.push(
      `${(view.fraction * 100).toFixed(1)} % on it, ${(settings.minFraction * 100).toFixed(1)} % needed`,
    );
  return { met: problems.length === 0, problems };
}

/** A retained rules message as far as a new host is concerned. */
export interface RetainedRules {
  readonly version: number | null;
  /** Set when the message is a delta: the version it applies to. */
  readonly deltaBase?: number;
}

/**
 * What a host that starts now would apply, from what the tenant's rules topic and its `/full`
 * topic retain (docs/rule-deltas.md: a host with no base takes the full set, then the delta if it
 * applies to it). Pure.
 */
export function newHostTakes(
  rules: RetainedRules | null,
  full: RetainedRules | null,
): { version: number | null; how: string } {
  if (rules === null) return { version: null, how: 'nothing: no rule set is retained' };
  if (rules.deltaBase === undefined)
    return rules.version === null
      ? { version: null, how: 'nothing: the retained message names no version it could apply' }
      : { version: rules.version, how: `v${rules.version}, the retained set` };
  if (full?.version === null || full === null)
    return {
      version: null,
      how: `nothing: the retained delta to v${rules.version} needs v${rules.deltaBase}, and no full set is retained beside it`,
    };
  if (full.version === rules.deltaBase)
    return {
      version: rules.version,
      how: `v${full.version}, the retained full set, then the delta to v${rules.version}`,
    };
  return {
    version: full.version,
    how: `v${full.version}, the retained full set (the delta to v${rules.version} needs v${rules.deltaBase})`,
  };
}

/** `gpu-east: 118/120 on v7, 1 NACK DANGLING_REFERENCE, 1 silent 45 s`. */
export function describeCluster(c: ClusterSummary, target: number | null): string {
  const parts = [
    `${c.cluster}: ${c.current}/${c.counted} on ${target === null ? 'no version' : `v${target}`}`,
  ];
  for (const [code, n] of Object.entries(c.nacks)) parts.push(`${n} NACK ${code}`);
  if (c.behind > 0) parts.push(`${c.behind} silent ${Math.round(c.silentMs / 1000)} s`);
  if (c.ahead > 0) parts.push(`${c.ahead} on a newer version`);
  if (c.unservable > 0) parts.push(`${c.unservable} cannot serve every objective`);
  if (c.offline > 0) parts.push(`${c.offline} offline (not counted)`);
  if (c.gone > 0) parts.push(`${c.gone} without a live report (not counted)`);
  return parts.join(', ');
}
