/**
 * Signal collectors: periodic sampling with failure kept apart from data, and samplers for a
 * model server's metrics, its readiness, and nvidia-smi.
 * @module
 */
export { fetchText } from './fetch-text.ts';
export { metricsSampler } from './metrics-sampler.ts';
export {
  type GpuReading,
  NoNvidiaSmiError,
  NVIDIA_SMI_ARGS,
  NvidiaSmiOutputError,
  nvidiaSmiSampler,
  parseNvidiaSmi,
} from './nvidia-smi.ts';
export {
  type CollectorState,
  PeriodicCollector,
  type PeriodicCollectorOptions,
} from './periodic-collector.ts';
export { kserveV2, type Readiness, readinessSampler } from './readiness-sampler.ts';
