import { type SaturationReport, SIGNAL_NAMES } from '../report/index.ts';
import type { Signals } from './signals.ts';

/** The signal fields of a report, from the merged signals at `now`. Pure. */
export function reportSignals(signals: Signals, now: number): Partial<SaturationReport> {
  // The age of what the score is made of (rates and host readings are not).
  const ages = SIGNAL_NAMES.flatMap((name) => {
    const s = signals[name];
    return s === undefined ? [] : [now - s.at];
  });
  return {
    ...(signals.queue ? { queue: signals.queue.value } : {}),
    ...(signals.running ? { running: signals.running.value } : {}),
    ...(signals.kvCache ? { kvCache: Math.min(1, Math.max(0, signals.kvCache.value)) } : {}),
    ...(signals.gpu ? { gpu: signals.gpu.value } : {}),
    ...(signals.latency ? { latencyMs: signals.latency.value } : {}),
    ...(signals.requestRate ? { requestRate: signals.requestRate.value } : {}),
    ...(signals.errorRate ? { errorRate: signals.errorRate.value } : {}),
    ...(signals.gpuMemory ? { gpuMemory: signals.gpuMemory.value } : {}),
    // The host's, only where the GPU's are unknown (what they stand in for).
    ...(signals.hostCpu && !signals.gpu ? { hostCpu: signals.hostCpu.value } : {}),
    ...(signals.hostMemory && !signals.gpuMemory ? { hostMemory: signals.hostMemory.value } : {}),
    ...(signals.throttled && signals.throttled.value > 0
      ? { throttled: signals.throttled.value }
      : {}),
    ...(ages.length > 0 ? { signalAgeMs: Math.max(...ages) } : {}),
  };
}
