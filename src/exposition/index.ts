/**
 * Reading metrics exposition text (Prometheus text 0.0.4 and OpenMetrics 1.0), pure: the model
 * server's `/metrics` as the reference parsers read it, optionally only the families wanted.
 */
export { formatOfContentType, parseExposition } from './parse-exposition.ts';
export type {
  Exemplar,
  ExpositionError,
  ExpositionFormat,
  ExpositionOptions,
  ExpositionResult,
  Family,
  MetricType,
  Sample,
} from './types.ts';
