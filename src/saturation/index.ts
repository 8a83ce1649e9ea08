/**
 * Replica saturation: signals → score (smoothed) → state (with hysteresis), and the report that
 * carries them to resolvers.
 * @module
 */

export {
  type Extractor,
  firstOf,
  genericPreset,
  METRIC_PRESETS,
  type MetricPreset,
  maxOf,
  sumOf,
} from './metric-presets.ts';
export { type MetricSamples, parseMetricsText, type Sample } from './metrics-text.ts';
export {
  DEFAULT_PUBLISH_POLICY,
  PublishPolicy,
  type PublishPolicyOptions,
} from './publish-policy.ts';
export { LatencyFromTotals, readSignals, type ScrapeReading } from './read-signals.ts';
export {
  type Assessment,
  REPLICA_STATES,
  type ReplicaState,
  ReplicaStateMachine,
  type StateInputs,
} from './replica-state.ts';
export { decodeReport, encodeReport, type SaturationReport } from './report.ts';
export { SaturationMonitor, type SaturationMonitorOptions } from './saturation-monitor.ts';
export { type RawScore, rawScore, smooth } from './score.ts';
export {
  type PushedLoad,
  type Reading,
  SIGNAL_NAMES,
  type SignalName,
  type Signals,
} from './signals.ts';
export { checkThresholds, DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.ts';
