import { execFile } from 'node:child_process';

/** One GPU as nvidia-smi reports it. */
export interface GpuReading {
  readonly index: number;
  /** 0–1. */
  readonly utilization: number;
  readonly memoryUsedMiB: number;
  readonly memoryTotalMiB: number;
}

/** The query filament runs: `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,utilization.gpu,memory.used,memory.total',
  '--format=csv,noheader,nounits',
] as const;

/**
 * Parses the CSV that {@linkcode NVIDIA_SMI_ARGS} produces, e.g. `0, 87, 61234, 81920`. Lines
 * whose fields are `[N/A]` or not numbers are skipped (a GPU that cannot report is no data).
 */
export function parseNvidiaSmi(text: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length !== 4) continue;
    const [index, util, used, total] = fields.map(Number) as [number, number, number, number];
    if (![index, util, used, total].every(Number.isFinite) || total <= 0) continue;
    gpus.push({
      index,
      utilization: Math.min(1, Math.max(0, util / 100)),
      memoryUsedMiB: used,
      memoryTotalMiB: total,
    });
  }
  return gpus;
}

/** Thrown when nvidia-smi is not installed: the GPU signal is then simply absent. */
export class NoNvidiaSmiError extends Error {
  override readonly name = 'NoNvidiaSmiError';
}

/**
 * A sampler that runs nvidia-smi and returns its GPUs. Rejects with {@linkcode NoNvidiaSmiError}
 * when the binary is absent, and with an ordinary error when it fails.
 */
export function nvidiaSmiSampler(
  binary = 'nvidia-smi',
  timeoutMs = 2000,
): () => Promise<GpuReading[]> {
  return () =>
    new Promise((resolve, reject) => {
      execFile(binary, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs }, (error, stdout) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          reject(
            code === 'ENOENT'
              ? new NoNvidiaSmiError(`${binary} is not installed`)
              : new Error(`${binary} failed: ${error.message}`),
          );
          return;
        }
        resolve(parseNvidiaSmi(String(stdout)));
      });
    });
}
