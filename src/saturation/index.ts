/**
 * Replica saturation: signals → score (smoothed) → state (with hysteresis), and the report that
 * carries them to resolvers.
 * @module
 */

export {
  CanaryCheck,
  type CanaryRequest,
  type Collector,
  type CollectorUpdate,
  type Contribution,
  type Correction,
  gpuCollector,
  hostCollector,
  metricsCollector,
  NoNvidiaSmiError,
  presetCanary,
  readinessCollector,
  SourceAbsentError,
} from './collectors/index.ts';
export {
  type Extractor,
  firstHistogram,
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
export {
  LatencyFromTotals,
  RateFromCounter,
  readSignals,
  type ScrapeReading,
} from './read-signals.ts';
export {
  type Assessment,
  ReplicaStateMachine,
  type StateInputs,
} from './replica-state.ts';
export { SaturationMonitor, type SaturationMonitorOptions } from './saturation-monitor.ts';
export { type RawScore, rawScore, smooth } from './score.ts';
export type {
  PushedLoad,
  Reading,
  Signals,
} from './signals.ts';
export { checkThresholds, DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.ts';
