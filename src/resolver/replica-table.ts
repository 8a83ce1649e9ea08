import type { SaturationReport } from '../report/index.ts';

/** A replica as the resolver knows it: its latest report and when that arrived. */
export interface ReplicaEntry {
  readonly report: SaturationReport;
  /** ms since the epoch, by the resolver's clock. */
  readonly receivedAt: number;
}

/**
 * The fleet as seen from reports: the latest report per (cluster, replica). A report older than
 * the one held (by its own timestamp) is ignored, so a delayed message cannot resurrect an old
 * state — except OFFLINE, which a broker sends as a last will stamped at connect time; a replica silent for longer than `maxAgeMs` drops out (its sidecar died without a will,
 * or the network split it off).
 */
export class ReplicaTable {
  private readonly entries = new Map<string, ReplicaEntry>();

  /** @param maxAgeMs how long a replica stays without a new report. Default 15 s (three heartbeats). */
  constructor(private readonly maxAgeMs = 15_000) {}

  /** Records a report; returns false when it was older than the one held. */
  update(report: SaturationReport, receivedAt: number): boolean {
    const key = `${report.cluster}/${report.replica}`;
    const held = this.entries.get(key);
    // A last will is stamped when its connection opened, so it is older than the reports sent
    // since; it is still the newest news (the connection is gone), so OFFLINE always lands.
    if (held && report.at < held.report.at && report.state !== 'OFFLINE') return false;
    this.entries.set(key, { report, receivedAt });
    return true;
  }

  /** Forgets a replica (its retained report was cleared). */
  remove(cluster: string, replica: string): void {
    this.entries.delete(`${cluster}/${replica}`);
  }

  /** Live replicas of `cluster` (every cluster when omitted), at time `now`. */
  replicas(now: number, cluster?: string): ReplicaEntry[] {
    const out: ReplicaEntry[] = [];
    for (const entry of this.entries.values()) {
      if (now - entry.receivedAt > this.maxAgeMs) continue;
      if (cluster === undefined || entry.report.cluster === cluster) out.push(entry);
    }
    return out;
  }
}
