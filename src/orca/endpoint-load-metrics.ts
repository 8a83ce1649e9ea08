import type { OrcaLoad } from './orca-load.ts';

/** The response header Envoy reads per-request ORCA load from. */
export const ENDPOINT_LOAD_METRICS_HEADER = 'endpoint-load-metrics';

/** ORCA's text encodings of the header value. */
export type EndpointLoadMetricsEncoding = 'TEXT' | 'JSON';

// The fields the TEXT encoding carries, in this order (it has no `utilization` map).
const TEXT_FIELDS = [
  'application_utilization',
  'cpu_utilization',
  'mem_utilization',
  'rps_fractional',
  'eps',
] as const;

/**
 * The value of an `endpoint-load-metrics` response header carrying `load`, for Envoy's
 * `client_side_weighted_round_robin` with per-request reports:
 *
 * - `TEXT`: `TEXT name:value,…` with `named_metrics.<key>:value` for named metrics (every Envoy
 *   build parses it);
 * - `JSON`: `JSON ` and the OrcaLoadReport in protobuf JSON (proto field names), `utilization`
 *   included (Envoy builds with full protos).
 *
 * Numbers are written in JavaScript's shortest round-trip form. Pure.
 */
export function endpointLoadMetrics(
  load: OrcaLoad,
  encoding: EndpointLoadMetricsEncoding = 'TEXT',
): string {
  if (encoding === 'JSON') return `JSON ${JSON.stringify(load)}`;
  const parts: string[] = [];
  for (const field of TEXT_FIELDS) {
    const value = load[field];
    if (value !== undefined) parts.push(`${field}:${value}`);
  }
  for (const [key, value] of Object.entries(load.named_metrics))
    parts.push(`named_metrics.${key}:${value}`);
  return `TEXT ${parts.join(',')}`;
}
