/**
 * Prometheus metrics: the sidecar's registry and the `/metrics` endpoint.
 * @module
 */
export { MetricsListenError, MetricsServer } from './metrics-server.ts';
export { type MetricsSources, SidecarMetrics } from './sidecar-metrics.ts';
