/**
 * Signal collectors behind one {@linkcode Collector} interface: periodic sampling with failure
 * kept apart from data, and the collectors of a model server's metrics, its readiness,
 * nvidia-smi and the host. The sidecar chooses which to build from its config and hands them to the monitor.
 * @module
 */

export {
  CanaryCheck,
  type CanaryOptions,
  type CanaryRequest,
  presetCanary,
} from './canary.ts';
export {
  type Collector,
  type CollectorUpdate,
  type Contribution,
  type Correction,
  SourceAbsentError,
} from './collector.ts';
export { fetchText } from './fetch-text.ts';
export {
  type HostCollectorOptions,
  type HostReading,
  type HostSource,
  hostCollector,
  hostSampler,
} from './host.ts';
export {
  type MetricsCollectorOptions,
  metricsCollector,
  metricsSampler,
} from './metrics-sampler.ts';
export {
  type GpuCollectorOptions,
  gpuCollector,
  NoNvidiaSmiError,
  NVIDIA_SMI_ARGS,
  NVIDIA_SMI_BASIC_ARGS,
  nvidiaSmiSampler,
} from './nvidia-smi.ts';
export {
  type GpuHealth,
  type GpuReading,
  gpuHealth,
  type NvidiaSmiOutput,
  NvidiaSmiOutputError,
  parseNvidiaSmi,
} from './nvidia-smi-output.ts';
export {
  type CollectorState,
  PeriodicCollector,
  type PeriodicCollectorOptions,
} from './periodic-collector.ts';
export {
  kserveV2,
  type Readiness,
  type ReadinessCollectorOptions,
  readinessCollector,
  readinessSampler,
} from './readiness-sampler.ts';
