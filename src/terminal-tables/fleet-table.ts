import type { ReplicaEntry } from '../resolver/index.ts';
import { formatTable } from './format-table.ts';

/**
 * Renders the fleet as a fixed-width text table, lowest score first, so
 * the replicas a resolver would pick are on top. Pure; `now` gives report ages.
 */
export function renderFleet(replicas: readonly ReplicaEntry[], now: number): string {
  const header = [
    'REPLICA',
    'CLUSTER',
    'STATE',
    'SCORE',
    'QUEUE',
    'RUN',
    'KV%',
    'GPU%',
    'LAT',
    'RULES',
    'AGE',
  ];
  const rows = [...replicas]
    .sort(
      (a, b) => a.report.score - b.report.score || a.report.replica.localeCompare(b.report.replica),
    )
    .map(({ report: r, receivedAt }) => [
      r.replica,
      r.cluster,
      r.state,
      r.score.toFixed(2),
      r.queue === undefined ? '-' : String(r.queue),
      r.running === undefined ? '-' : String(r.running),
      r.kvCache === undefined ? '-' : String(Math.round(r.kvCache * 100)),
      r.gpu === undefined ? '-' : String(Math.round(r.gpu * 100)),
      r.latencyMs === undefined ? '-' : `${Math.round(r.latencyMs)}ms`,
      Object.entries(r.ruleVersions ?? {})
        .map(([tenant, v]) => `${tenant}:v${v}`)
        .join(' ') || '-',
      age(now - receivedAt),
    ]);
  return formatTable(header, rows);
}

function age(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 60_000)}m`;
}
