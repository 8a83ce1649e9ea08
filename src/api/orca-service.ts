import type * as grpc from '@grpc/grpc-js';
import type { SaturationReport } from '../report/index.ts';
import type { StreamRegistry } from './health-service.ts';
import type { SidecarBackend } from './sidecar-backend.ts';
import { latestOnlySender, type StreamCancelled, StreamFlow } from './stream-flow.ts';

/** Shortest report interval a client may ask for, ms (shorter requests are raised to it). */
export const MIN_ORCA_INTERVAL_MS = 250;
/** Interval when the client asks for none, ms. */
export const DEFAULT_ORCA_INTERVAL_MS = 1000;
/** Longest interval honoured, ms. */
export const MAX_ORCA_INTERVAL_MS = 60_000;

/**
 * An `xds.data.orca.v3.OrcaLoadReport` from a saturation report: `application_utilization` is the
 * score; `cpu_utilization` the GPU busy fraction and `mem_utilization` the KV-cache use (the GPU
 * memory serving consumes), where known; `named_metrics` carry queue, running, KV cache, latency
 * and the state. Pure.
 */
export function toOrcaLoadReport(r: SaturationReport): Record<string, unknown> {
  const named: Record<string, number> = {
    ready: r.state === 'READY' || r.state === 'WARMING' ? 1 : 0,
  };
  if (r.queue !== undefined) named.queue = r.queue;
  if (r.running !== undefined) named.running = r.running;
  if (r.kvCache !== undefined) named.kv_cache = r.kvCache;
  if (r.latencyMs !== undefined) named.latency_ms = r.latencyMs;
  return {
    application_utilization: r.score,
    ...(r.gpu !== undefined ? { cpu_utilization: r.gpu } : {}),
    ...(r.kvCache !== undefined ? { mem_utilization: Math.min(1, Math.max(0, r.kvCache)) } : {}),
    utilization: entries({ score: Math.min(1, Math.max(0, r.score)) }),
    named_metrics: entries(named),
  };
}

/**
 * A proto map as the embedded types take it: the descriptor set they are built from describes a
 * map as repeated key/value entries (the same bytes on the wire).
 */
function entries(map: Record<string, number>): Array<{ key: string; value: number }> {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}

/** The requested interval in ms, within the bounds above. */
export function orcaInterval(
  requested: { seconds?: unknown; nanos?: unknown } | null | undefined,
): number {
  if (!requested) return DEFAULT_ORCA_INTERVAL_MS;
  const ms = Number(requested.seconds ?? 0) * 1000 + Number(requested.nanos ?? 0) / 1e6;
  if (!Number.isFinite(ms) || ms <= 0) return DEFAULT_ORCA_INTERVAL_MS;
  return Math.min(MAX_ORCA_INTERVAL_MS, Math.max(MIN_ORCA_INTERVAL_MS, ms));
}

/**
 * `xds.service.orca.v3.OpenRcaService`: out-of-band load reports for gRPC's weighted round robin
 * and Envoy. `StreamCoreMetrics` sends a report at once, then every requested interval (250 ms
 * at least), and at once whenever the replica's state changes; a client that stops reading gets
 * only the newest report when it drains, and is reset after the stall limit like any stream.
 * (grpc-js's own `ServerMetricRecorder` sends on the interval only, with no minimum and no
 * backpressure, and loads its protos at run time: hence this.)
 */
export function orcaService(
  backend: SidecarBackend,
  streams: StreamRegistry,
  flow: { readonly stallMs: number; readonly onCancelled: StreamCancelled },
): grpc.UntypedServiceImplementation {
  return {
    StreamCoreMetrics(
      call: grpc.ServerWritableStream<
        { report_interval?: { seconds?: unknown; nanos?: unknown } | null },
        unknown
      >,
    ) {
      const untyped = call as unknown as grpc.ServerWritableStream<unknown, unknown>;
      const send = latestOnlySender(
        call,
        new StreamFlow(untyped, { method: 'StreamCoreMetrics', ...flow }),
        () => {
          const report = backend.saturation();
          return report ? toOrcaLoadReport(report) : undefined;
        },
      );
      send();
      const timer = setInterval(send, orcaInterval(call.request.report_interval));
      let state = backend.saturation()?.state;
      const off = backend.onSaturation((report) => {
        if (report.state === state) return;
        state = report.state;
        send();
      });
      const stop = () => {
        clearInterval(timer);
        off();
      };
      call.once('cancelled', stop);
      call.once('finish', stop);
      call.on('error', () => {});
      streams.add(untyped);
    },
  };
}
