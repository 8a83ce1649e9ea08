import { execFile } from 'node:child_process';
import type { Clock } from '../../clock/index.ts';
import { SourceAbsentError } from './collector.ts';
import {
  BASIC_COLUMNS,
  gpuHealth,
  HEALTH_COLUMNS,
  type NvidiaSmiOutput,
  parseNvidiaSmi,
} from './nvidia-smi-output.ts';
import { PeriodicCollector } from './periodic-collector.ts';

/** The full query: the basic columns and the health ones. */
export const NVIDIA_SMI_ARGS = [
  `--query-gpu=${[...BASIC_COLUMNS, ...HEALTH_COLUMNS].join(',')}`,
  '--format=csv',
] as const;

/** The query for a driver that refuses a health column: utilization and memory only. */
export const NVIDIA_SMI_BASIC_ARGS = [
  `--query-gpu=${BASIC_COLUMNS.join(',')}`,
  '--format=csv',
] as const;

/** Thrown when nvidia-smi is not installed: the GPU signal is then simply absent. */
export class NoNvidiaSmiError extends SourceAbsentError {
  override readonly name = 'NoNvidiaSmiError';
}

/**
 * A sampler that runs nvidia-smi and returns what it said. A lost GPU or an unreachable driver is
 * a good sample carrying that failure (the replica is then UNHEALTHY, not merely stale). A driver
 * that refuses one of the health columns ("… is not a valid field to query") is asked for the
 * basic columns from then on. Rejects with {@linkcode NoNvidiaSmiError} when the binary is absent,
 * and with an ordinary error for any other failure.
 */
export function nvidiaSmiSampler(
  binary = 'nvidia-smi',
  timeoutMs = 2000,
): () => Promise<NvidiaSmiOutput> {
  let args: readonly string[] = NVIDIA_SMI_ARGS;
  const run = (): Promise<NvidiaSmiOutput> =>
    new Promise((resolve, reject) => {
      execFile(binary, [...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(new NoNvidiaSmiError(`${binary} is not installed`));
          return;
        }
        const said = `${stdout}\n${stderr}`;
        if (error && args !== NVIDIA_SMI_BASIC_ARGS && /is not a valid field to query/.test(said)) {
          args = NVIDIA_SMI_BASIC_ARGS;
          run().then(resolve, reject);
          return;
        }
        let output: NvidiaSmiOutput;
        try {
          // Parsed even after a failure exit: its failure lines say more than "Command failed".
          output = parseNvidiaSmi(String(stdout));
        } catch (parseError) {
          reject(parseError);
          return;
        }
        if (error && output.failures.length === 0) {
          const line = String(stderr)
            .split('\n')
            .find((l) => l.trim() !== '');
          reject(new Error(`${binary} failed: ${line?.trim() ?? error.message}`));
          return;
        }
        resolve(output);
      });
    });
  return run;
}

/** Options for {@linkcode gpuCollector}. */
export interface GpuCollectorOptions {
  /** The nvidia-smi binary (a name on PATH or a path). Default `nvidia-smi`. */
  readonly binary?: string;
  readonly intervalMs: number;
  readonly clock: Clock;
}

/**
 * The `nvidia-smi` collector: the GPU signal is the busiest GPU that reports utilisation (MIG
 * instances do not: no GPU signal then); GPU memory, the fullest GPU's memory in use (not part of
 * the score: servers such as vLLM reserve most of it up front); `throttled`, the speed the
 * slowest throttled GPU lost (it raises the score); and faults — a lost GPU, an unreachable
 * driver, uncorrectable ECC errors, pages pending retirement, row remapping pending or failed —
 * each of which makes the replica UNHEALTHY. On a host without nvidia-smi it stops at once and
 * its signals are simply absent.
 */
export function gpuCollector(options: GpuCollectorOptions): PeriodicCollector<NvidiaSmiOutput> {
  return new PeriodicCollector({
    name: 'nvidia-smi',
    sample: nvidiaSmiSampler(options.binary),
    intervalMs: options.intervalMs,
    clock: options.clock,
    contribute: ({ value, at }) => {
      if (value === undefined || at === undefined) return {};
      const gpus = value.gpus;
      const utilizations = gpus.flatMap((g) =>
        g.utilization === undefined ? [] : [g.utilization],
      );
      const memory = gpus.flatMap((g) =>
        g.memoryUsedMiB === undefined || g.memoryTotalMiB === undefined
          ? []
          : [Math.min(1, g.memoryUsedMiB / g.memoryTotalMiB)],
      );
      const health = gpuHealth(value);
      return {
        signals: {
          ...(utilizations.length > 0 ? { gpu: { value: Math.max(...utilizations), at } } : {}),
          ...(memory.length > 0 ? { gpuMemory: { value: Math.max(...memory), at } } : {}),
          ...(gpus.length > 0 ? { throttled: { value: health.throttled, at } } : {}),
        },
        ...(health.faults.length > 0 ? { faults: health.faults } : {}),
        ...(health.slowdowns.length > 0 ? { slowdowns: health.slowdowns } : {}),
      };
    },
  });
}
