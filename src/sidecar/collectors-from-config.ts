import type { Clock } from '../clock/index.ts';
import type { Config } from '../config/index.ts';
import { LiveInventory, type ModelInventory } from '../inventory/index.ts';
import type { Logger } from '../log/index.ts';
import {
  CanaryCheck,
  type CanaryRequest,
  type Collector,
  genericPreset,
  gpuCollector,
  hostCollector,
  METRIC_PRESETS,
  type MetricPreset,
  metricsCollector,
  presetCanary,
  readinessCollector,
} from '../saturation/index.ts';

/** How often the host's CPU and memory are read, ms. */
const HOST_INTERVAL_MS = 1000;

/** What the collectors need besides `[saturation]`. */
export interface CollectorParts {
  readonly clock: Clock;
  /** What the server has loaded: the canary names its first base model. */
  readonly models: ModelInventory;
  readonly log?: Logger;
  /** Told when a canary succeeds after failures or at first (its latency, ms). */
  readonly onCanaryPassed?: (latencyMs: number, first: boolean) => void;
}

/**
 * The collectors `[saturation]` asks for, in merge order: the metrics scrape when `metrics_url`
 * is set, the readiness probe when `readiness_url` is set, the canary check when enabled, the
 * host's CPU and memory, nvidia-smi unless `off`. The metrics scrape leaves the canaries out.
 */
export function collectorsFromConfig(s: Config['saturation'], parts: CollectorParts): Collector[] {
  const { clock } = parts;
  const collectors: Collector[] = [];
  const canary = canaryFromConfig(s, parts, () => metrics?.current.value?.latencyTotals?.count);
  const metrics = s.metricsUrl
    ? metricsCollector({
        url: s.metricsUrl,
        preset: presetOf(s),
        intervalMs: s.scrapeIntervalMs,
        timeoutMs: s.scrapeTimeoutMs,
        clock,
        ...(canary ? { exclude: () => canary.totals() } : {}),
      })
    : null;
  if (metrics) collectors.push(metrics);
  if (s.readinessUrl)
    collectors.push(
      readinessCollector({
        url: s.readinessUrl,
        intervalMs: s.readinessIntervalMs,
        timeoutMs: s.scrapeTimeoutMs,
        clock,
      }),
    );
  if (canary) collectors.push(canary);
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

function canaryFromConfig(
  s: Config['saturation'],
  parts: CollectorParts,
  completed: () => number | undefined,
): CanaryCheck | null {
  const c = s.canary;
  if (c === null) return null;
  const base = c.url;
  const model = () => c.model ?? firstBaseModel(parts.models);
  const request = (): CanaryRequest | undefined => {
    if (c.request === null) return presetCanary(s.preset, base, model());
    const name = model() ?? '';
    return {
      url: `${base}${c.request.path}`,
      body: c.request.body.replaceAll('{model}', JSON.stringify(name).slice(1, -1)),
    };
  };
  return new CanaryCheck({
    request,
    timeoutMs: c.timeoutMs,
    retryMs: c.retryMs,
    idleMs: c.idleMs,
    unhealthyAfter: c.unhealthyAfter,
    completed,
    clock: parts.clock,
    ...(parts.log ? { logger: parts.log } : {}),
    ...(parts.onCanaryPassed ? { onPassed: parts.onCanaryPassed } : {}),
  });
}

/** The first base model (not an adapter) the server has ready. */
function firstBaseModel(models: ModelInventory): string | undefined {
  if (models instanceof LiveInventory)
    return models.served().find((m) => m.parent === undefined && m.state === 'ready')?.name;
  return models.list().find((m) => m.ready)?.id;
}

function presetOf(s: Config['saturation']): MetricPreset {
  return s.preset === 'generic'
    ? genericPreset(s.generic)
    : (METRIC_PRESETS[s.preset] as MetricPreset);
}
