import type { ReplicaState, SaturationReport } from '../report/index.ts';

/**
 * The fields of an `xds.data.orca.v3.OrcaLoadReport` filament fills, with its maps as plain
 * records (the gRPC service turns them into the map entries its types want).
 */
export interface OrcaLoad {
  /** What weighted round robin divides the request rate by (see {@linkcode toOrcaLoad}). */
  readonly application_utilization: number;
  /** GPU busy, 0–1, where nvidia-smi reports it; else the host's CPU busy. */
  readonly cpu_utilization?: number;
  /** The fullest GPU's memory in use, 0–1, where nvidia-smi reports it; else the host's memory. */
  readonly mem_utilization?: number;
  /** Requests the model server finished per second, where its counters or ReportLoad give it. */
  readonly rps_fractional?: number;
  /** Requests it failed per second through its own fault, where counted. */
  readonly eps?: number;
  /** `score`: the saturation score itself; `kv_cache`: KV-cache use; both 0–1. */
  readonly utilization: Readonly<Record<string, number>>;
  /** queue, running, kv_cache, latency_ms, ready (1 when the replica should get traffic). */
  readonly named_metrics: Readonly<Record<string, number>>;
}

/**
 * Utilization reported for a replica that should get no traffic at all (COLD, DRAINING,
 * UNHEALTHY, STALE_RULES, OFFLINE). ORCA has no "down": weighted round robin gives such a replica
 * a hundredth of the weight its rate would earn, and its health check (gRPC health, an Envoy
 * health check on the sidecar) is what takes it out.
 */
export const UNSERVABLE_UTILIZATION = 100;

/** The least utilization reported while WARMING, so a warming replica gets at most half a share. */
export const WARMING_UTILIZATION_FLOOR = 0.5;

const SERVING: ReadonlySet<ReplicaState> = new Set(['READY', 'WARMING', 'SATURATED']);

/**
 * A saturation report as ORCA load: `application_utilization` is the score (at least
 * {@linkcode WARMING_UTILIZATION_FLOOR} while WARMING, {@linkcode UNSERVABLE_UTILIZATION} in a
 * state that should get no traffic), so weighted round robin's weight, rate ÷ utilization, falls
 * as the replica fills; `rps_fractional` and `eps` are the model server's own request and error
 * rates; `cpu_utilization` is GPU busy and `mem_utilization` GPU memory in use where nvidia-smi
 * tells, else the host's CPU and memory; KV-cache use is in `utilization.kv_cache`. Pure.
 */
export function toOrcaLoad(r: SaturationReport): OrcaLoad {
  const serving = SERVING.has(r.state);
  const score = clamp01(r.score);
  const named: Record<string, number> = { ready: serving ? 1 : 0 };
  if (r.queue !== undefined) named.queue = r.queue;
  if (r.running !== undefined) named.running = r.running;
  if (r.kvCache !== undefined) named.kv_cache = r.kvCache;
  if (r.latencyMs !== undefined) named.latency_ms = r.latencyMs;
  const cpu = r.gpu ?? r.hostCpu;
  const memory = r.gpuMemory ?? r.hostMemory;
  return {
    application_utilization: !serving
      ? UNSERVABLE_UTILIZATION
      : r.state === 'WARMING'
        ? Math.max(score, WARMING_UTILIZATION_FLOOR)
        : score,
    ...(cpu !== undefined ? { cpu_utilization: Math.max(0, cpu) } : {}),
    ...(memory !== undefined ? { mem_utilization: clamp01(memory) } : {}),
    ...(r.requestRate !== undefined ? { rps_fractional: Math.max(0, r.requestRate) } : {}),
    ...(r.errorRate !== undefined ? { eps: Math.max(0, r.errorRate) } : {}),
    utilization: {
      score,
      ...(r.kvCache !== undefined ? { kv_cache: clamp01(r.kvCache) } : {}),
    },
    named_metrics: named,
  };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 1;
}
