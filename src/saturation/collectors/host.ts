import { cpus, freemem, totalmem } from 'node:os';
import type { Clock } from '../../clock/index.ts';
import { PeriodicCollector } from './periodic-collector.ts';

/** The host's CPU busy and memory used, as fractions 0–1. */
export interface HostReading {
  /** CPU busy since the previous sample, over every CPU (absent on the first sample). */
  readonly cpu?: number;
  readonly memory: number;
}

/** What the host sampler reads; `node:os` unless a test gives its own. */
export interface HostSource {
  cpus(): ReadonlyArray<{ readonly times: Readonly<Record<string, number>> }>;
  freemem(): number;
  totalmem(): number;
}

const OS: HostSource = { cpus, freemem, totalmem };

/**
 * A sampler of the host's CPU (busy time over all time since the previous sample, every CPU
 * summed; `idle` is the only idle time) and memory (1 − free ÷ total). A runtime that reports no
 * CPU times gives no CPU reading rather than a wrong one.
 */
export function hostSampler(source: HostSource = OS): () => Promise<HostReading> {
  let previous: { busy: number; total: number } | null = null;
  return async () => {
    let busy = 0;
    let total = 0;
    for (const cpu of source.cpus())
      for (const [kind, ms] of Object.entries(cpu.times)) {
        total += ms;
        if (kind !== 'idle') busy += ms;
      }
    const last = previous;
    previous = total > 0 ? { busy, total } : null;
    const totalMem = source.totalmem();
    const memory = totalMem > 0 ? Math.min(1, Math.max(0, 1 - source.freemem() / totalMem)) : 0;
    const cpu =
      last !== null && total > last.total
        ? Math.min(1, Math.max(0, (busy - last.busy) / (total - last.total)))
        : undefined;
    return cpu === undefined ? { memory } : { cpu, memory };
  };
}

/** Options for {@linkcode hostCollector}. */
export interface HostCollectorOptions {
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly source?: HostSource;
}

/**
 * The `host` collector: the host's CPU busy and memory used. Not part of the score (a GPU
 * server's CPU says little of its load); it is what ORCA's `cpu_utilization` and
 * `mem_utilization` fall back to on a host without nvidia-smi.
 */
export function hostCollector(options: HostCollectorOptions): PeriodicCollector<HostReading> {
  return new PeriodicCollector({
    name: 'host',
    sample: hostSampler(options.source),
    intervalMs: options.intervalMs,
    clock: options.clock,
    contribute: ({ value, at }) =>
      value === undefined || at === undefined
        ? {}
        : {
            signals: {
              hostMemory: { value: value.memory, at },
              ...(value.cpu !== undefined ? { hostCpu: { value: value.cpu, at } } : {}),
            },
          },
  });
}
