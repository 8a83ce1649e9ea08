/**
 * This replica's load in ORCA's forms (Open Request Cost Aggregation, `xds.data.orca.v3`): the
 * OrcaLoadReport fields weighted round robin in gRPC and Envoy weighs replicas by, and the
 * `endpoint-load-metrics` header value for per-request reports. Pure.
 * @module
 */
export {
  ENDPOINT_LOAD_METRICS_HEADER,
  type EndpointLoadMetricsEncoding,
  endpointLoadMetrics,
} from './endpoint-load-metrics.ts';
export {
  type OrcaLoad,
  toOrcaLoad,
  UNSERVABLE_UTILIZATION,
  WARMING_UTILIZATION_FLOOR,
} from './orca-load.ts';
