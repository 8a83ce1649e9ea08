import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import {
  type Collector,
  genericPreset,
  gpuCollector,
  hostCollector,
  METRIC_PRESETS,
  type MetricPreset,
  metricsCollector,
  readinessCollector,
} from '../saturation/index.ts';

/** How often the host's CPU and memory are read, ms. */
const HOST_INTERVAL_MS = 1000;

/**
 * The collectors `[saturation]` asks for, in merge order: the metrics scrape when `metrics_url`
 * is set, the readiness probe when `readiness_url` is set, the host's CPU and memory, nvidia-smi
 * unless `off`.
 */
export function collectorsFromConfig(s: Config['saturation'], clock: Clock): Collector[] {
  const collectors: Collector[] = [];
  if (s.metricsUrl)
    collectors.push(
      metricsCollector({
        url: s.metricsUrl,
        preset: presetOf(s),
        intervalMs: s.scrapeIntervalMs,
        timeoutMs: s.scrapeTimeoutMs,
        clock,
      }),
    );
  if (s.readinessUrl)
    collectors.push(
      readinessCollector({
        url: s.readinessUrl,
        intervalMs: s.readinessIntervalMs,
        timeoutMs: s.scrapeTimeoutMs,
        clock,
      }),
    );
  // The host's CPU and memory: cheap, and what ORCA's cpu/mem utilization fall back to.
  collectors.push(hostCollector({ intervalMs: HOST_INTERVAL_MS, clock }));
  if (s.nvidiaSmi !== 'off')
    collectors.push(
      gpuCollector({
        binary: s.nvidiaSmi === 'auto' ? 'nvidia-smi' : s.nvidiaSmi,
        intervalMs: s.nvidiaSmiIntervalMs,
        clock,
      }),
    );
  return collectors;
}

function presetOf(s: Config['saturation']): MetricPreset {
  return s.preset === 'generic'
    ? genericPreset(s.generic)
    : (METRIC_PRESETS[s.preset] as MetricPreset);
}
