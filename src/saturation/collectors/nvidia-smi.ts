import { execFile } from 'node:child_process';
import type { Clock } from '../../clock/index.ts';
import { SourceAbsentError } from './collector.ts';
import { PeriodicCollector } from './periodic-collector.ts';

/** One GPU as nvidia-smi reports it. */
export interface GpuReading {
  readonly index: number;
  /** 0–1; absent when the GPU does not report it (`[N/A]`, e.g. in MIG mode). */
  readonly utilization?: number;
  /** Absent when not reported (`[N/A]`). */
  readonly memoryUsedMiB?: number;
  readonly memoryTotalMiB?: number;
}

/** The columns filament asks for, in order. */
const COLUMNS = ['index', 'utilization.gpu', 'memory.used', 'memory.total'] as const;

/**
 * The query filament runs: `nvidia-smi --query-gpu=… --format=csv`. With its header and units,
 * as operators and other tools capture it, so the parser can check it got the columns it asked
 * for (and real captures of wider queries are valid test input).
 */
export const NVIDIA_SMI_ARGS = [`--query-gpu=${COLUMNS.join(',')}`, '--format=csv'] as const;

/** Thrown when nvidia-smi's output is not what the query asks for, or reports a failed GPU. */
export class NvidiaSmiOutputError extends Error {
  override readonly name = 'NvidiaSmiOutputError';
}

/**
 * Parses the CSV that {@linkcode NVIDIA_SMI_ARGS} produces (header line, then one row per GPU,
 * e.g. `0, 87 %, 61234 MiB, 81920 MiB`). Columns are found by name in the header, so extra
 * columns and any order are fine. A cell of `[N/A]` (or `[Not Supported]`, …) leaves that value
 * out: in MIG mode utilization is not reported but memory is. A GPU's index is required.
 * @throws {NvidiaSmiOutputError} for a missing header or column, an unreadable cell, or a line
 *   that is not a row — nvidia-smi prints e.g. `Unable to determine the device handle for GPU
 *   0000:02:00.0: GPU is lost. …` in place of a failed GPU's row: a host with a lost GPU must
 *   not look healthy, so the whole sample fails with that line.
 */
export function parseNvidiaSmi(text: string): GpuReading[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const [header, ...rows] = lines;
  if (header === undefined) throw new NvidiaSmiOutputError('nvidia-smi printed nothing');
  const names = header.split(',').map((cell) => cell.trim().replace(/\s*\[[^\]]*\]$/, ''));
  const at = COLUMNS.map((column) => names.indexOf(column));
  const missing = COLUMNS.filter((_, i) => at[i] === -1);
  if (missing.length > 0)
    throw new NvidiaSmiOutputError(
      `nvidia-smi output lacks ${missing.join(', ')}: ${truncate(header)}`,
    );
  return rows.map((row) => {
    const cells = row.split(',').map((cell) => cell.trim());
    if (cells.length !== names.length) throw new NvidiaSmiOutputError(truncate(row));
    const [index, utilization, used, total] = at.map((i) => quantity(cells[i] as string, row));
    if (index === undefined) throw new NvidiaSmiOutputError(`no GPU index in: ${truncate(row)}`);
    return {
      index,
      ...(utilization !== undefined
        ? { utilization: Math.min(1, Math.max(0, utilization / 100)) }
        : {}),
      ...(used !== undefined ? { memoryUsedMiB: used } : {}),
      ...(total !== undefined && total > 0 ? { memoryTotalMiB: total } : {}),
    };
  });
}

/** A cell's number without its unit (`87 %`, `61234 MiB`); `undefined` for `[N/A]` and kin. */
function quantity(cell: string, row: string): number | undefined {
  if (/^\[.*\]$/.test(cell) || cell === 'N/A') return undefined;
  const value = Number(cell.replace(/\s*(%|MiB)$/, ''));
  if (cell === '' || !Number.isFinite(value))
    throw new NvidiaSmiOutputError(`unreadable value "${cell}" in: ${truncate(row)}`);
  return value;
}

const truncate = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** Thrown when nvidia-smi is not installed: the GPU signal is then simply absent. */
export class NoNvidiaSmiError extends SourceAbsentError {
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
      execFile(binary, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs }, (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(new NoNvidiaSmiError(`${binary} is not installed`));
          return;
        }
        let gpus: GpuReading[];
        try {
          // Parsed even after a failure exit: its error line (e.g. "Unable to determine the
          // device handle for GPU …") says more than "Command failed".
          gpus = parseNvidiaSmi(String(stdout));
        } catch (parseError) {
          reject(parseError);
          return;
        }
        if (error) {
          const said = String(stderr)
            .split('\n')
            .find((line) => line.trim() !== '');
          reject(new Error(`${binary} failed: ${said?.trim() ?? error.message}`));
          return;
        }
        resolve(gpus);
      });
    });
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
 * the score: servers such as vLLM reserve most of it up front). On a host without nvidia-smi it stops at once and the
 * signal is simply absent.
 */
export function gpuCollector(options: GpuCollectorOptions): PeriodicCollector<GpuReading[]> {
  return new PeriodicCollector({
    name: 'nvidia-smi',
    sample: nvidiaSmiSampler(options.binary),
    intervalMs: options.intervalMs,
    clock: options.clock,
    contribute: ({ value, at }) => {
      const gpus = value ?? [];
      const utilizations = gpus.flatMap((g) =>
        g.utilization === undefined ? [] : [g.utilization],
      );
      const memory = gpus.flatMap((g) =>
        g.memoryUsedMiB === undefined || g.memoryTotalMiB === undefined
          ? []
          : [Math.min(1, g.memoryUsedMiB / g.memoryTotalMiB)],
      );
      if (at === undefined) return {};
      return {
        signals: {
          ...(utilizations.length > 0 ? { gpu: { value: Math.max(...utilizations), at } } : {}),
          ...(memory.length > 0 ? { gpuMemory: { value: Math.max(...memory), at } } : {}),
        },
      };
    },
  });
}
