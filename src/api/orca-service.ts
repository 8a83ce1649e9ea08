import type * as grpc from '@grpc/grpc-js';
import { toOrcaLoad } from '../orca/index.ts';
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
 * An `xds.data.orca.v3.OrcaLoadReport` message from a saturation report ({@linkcode toOrcaLoad}),
 * its maps as the repeated key/value entries the embedded types take (the descriptor set they are
 * built from describes a map so; the bytes on the wire are the same).
 */
export function toOrcaLoadReport(r: SaturationReport): Record<string, unknown> {
  const load = toOrcaLoad(r);
  return {
    ...load,
    utilization: entries(load.utilization),
    named_metrics: entries(load.named_metrics),
  };
}

function entries(map: Readonly<Record<string, number>>): Array<{ key: string; value: number }> {
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
