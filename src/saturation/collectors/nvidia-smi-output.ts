/** One GPU as nvidia-smi reports it. A field the GPU or driver does not report is absent. */
export interface GpuReading {
  readonly index: number;
  /** 0–1; absent when not reported (`[N/A]`, e.g. in MIG mode). */
  readonly utilization?: number;
  readonly memoryUsedMiB?: number;
  readonly memoryTotalMiB?: number;
  /** Uncorrectable ECC errors since the driver loaded. */
  readonly uncorrectableEcc?: number;
  /** Memory pages pending retirement (older GPUs; a reboot retires them). */
  readonly retiredPagesPending?: boolean;
  /** Row remapping pending (Ampere and later; a GPU reset completes it). */
  readonly remappedRowsPending?: boolean;
  /** A row remapping failed in the GPU's lifetime. */
  readonly remappedRowsFailure?: boolean;
  /** Active clock slowdowns, by nvidia-smi's reason name (`hw_thermal_slowdown`, …). */
  readonly slowdowns?: readonly string[];
}

/** What one run of nvidia-smi said: the GPUs it could read, and the failures it printed. */
export interface NvidiaSmiOutput {
  readonly gpus: readonly GpuReading[];
  /**
   * Lines nvidia-smi printed instead of data: a lost GPU ("Unable to determine the device handle
   * for GPU …: GPU is lost"), a driver it cannot reach ("NVIDIA-SMI has failed because it
   * couldn't communicate with the NVIDIA driver"). Each makes the replica UNHEALTHY.
   */
  readonly failures: readonly string[];
}

/** The columns every answer must have. */
export const BASIC_COLUMNS = ['index', 'utilization.gpu', 'memory.used', 'memory.total'] as const;

/** Clock slowdowns that cut a GPU's speed (power capping is ordinary operation, so not listed). */
export const SLOWDOWN_REASONS = [
  'hw_slowdown',
  'hw_thermal_slowdown',
  'hw_power_brake_slowdown',
  'sw_thermal_slowdown',
] as const;

/**
 * The health columns, by the names every driver in the captures accepts: 590–610 print
 * `clocks_event_reasons.*` in the header but take the older `clocks_throttle_reasons.*` too.
 */
export const HEALTH_COLUMNS = [
  'ecc.errors.uncorrected.volatile.total',
  'retired_pages.pending',
  'remapped_rows.pending',
  'remapped_rows.failure',
  ...SLOWDOWN_REASONS.map((r) => `clocks_throttle_reasons.${r}`),
] as const;

/** Thrown when nvidia-smi's output is not what the query asks for. */
export class NvidiaSmiOutputError extends Error {
  override readonly name = 'NvidiaSmiOutputError';
}

/** A line nvidia-smi prints instead of data when it cannot read a GPU or the driver. */
const FAILURE_LINE = /^(Unable to determine the device handle for GPU|NVIDIA-SMI has failed)/;

/**
 * Parses `nvidia-smi --query-gpu=… --format=csv` (header line, then one row per GPU, e.g.
 * `0, 87 %, 61234 MiB, 81920 MiB, 0, [N/A], No, No, Not Active, …`). Columns are found by name in
 * the header (units in brackets dropped; `clocks_event_reasons.*` read as
 * `clocks_throttle_reasons.*`), so extra columns, any order and real captures of wider queries
 * are all fine; the {@linkcode BASIC_COLUMNS} are required, the health ones read where present.
 * A cell of `[N/A]`, `[Not Supported]`, `[Requested functionality has been deprecated]`… leaves
 * that value out. Failure lines (a lost GPU, an unreachable driver) are returned, not thrown.
 * @throws {NvidiaSmiOutputError} for a missing header or column, an unreadable cell, or a line
 *   that is neither a row nor a known failure.
 */
export function parseNvidiaSmi(text: string): NvidiaSmiOutput {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const failures = lines.filter((line) => FAILURE_LINE.test(line.trim())).map((l) => l.trim());
  const data = lines.filter((line) => !FAILURE_LINE.test(line.trim()));
  const [header, ...rows] = data;
  if (header === undefined) {
    if (failures.length > 0) return { gpus: [], failures };
    throw new NvidiaSmiOutputError('nvidia-smi printed nothing');
  }
  const names = header.split(',').map((cell) =>
    cell
      .trim()
      .replace(/\s*\[[^\]]*\]$/, '')
      .replace(/^clocks_event_reasons\./, 'clocks_throttle_reasons.'),
  );
  const missing = BASIC_COLUMNS.filter((column) => !names.includes(column));
  if (missing.length > 0)
    throw new NvidiaSmiOutputError(
      `nvidia-smi output lacks ${missing.join(', ')}: ${truncate(header)}`,
    );
  const gpus = rows.map((row) => {
    const cells = row.split(',').map((cell) => cell.trim());
    if (cells.length !== names.length) throw new NvidiaSmiOutputError(truncate(row));
    const cell = (column: string) => {
      const i = names.indexOf(column);
      return i === -1 ? undefined : (cells[i] as string);
    };
    return readGpu(cell, row);
  });
  return { gpus, failures };
}

function readGpu(cell: (column: string) => string | undefined, row: string): GpuReading {
  const number = (column: string) => {
    const text = cell(column);
    return text === undefined ? undefined : quantity(text, row);
  };
  const flag = (column: string, yes: string, no: string) => {
    const text = cell(column);
    if (text === undefined || notReported(text)) return undefined;
    if (text === yes) return true;
    if (text === no) return false;
    throw new NvidiaSmiOutputError(`unreadable ${column} "${text}" in: ${truncate(row)}`);
  };
  const index = number('index');
  if (index === undefined) throw new NvidiaSmiOutputError(`no GPU index in: ${truncate(row)}`);
  const utilization = number('utilization.gpu');
  const used = number('memory.used');
  const total = number('memory.total');
  const ecc = number('ecc.errors.uncorrected.volatile.total');
  const retired = flag('retired_pages.pending', 'Yes', 'No');
  const remapPending = flag('remapped_rows.pending', 'Yes', 'No');
  const remapFailure = flag('remapped_rows.failure', 'Yes', 'No');
  const slowdowns = SLOWDOWN_REASONS.filter(
    (r) => flag(`clocks_throttle_reasons.${r}`, 'Active', 'Not Active') === true,
  );
  return {
    index,
    ...(utilization !== undefined
      ? { utilization: Math.min(1, Math.max(0, utilization / 100)) }
      : {}),
    ...(used !== undefined ? { memoryUsedMiB: used } : {}),
    ...(total !== undefined && total > 0 ? { memoryTotalMiB: total } : {}),
    ...(ecc !== undefined ? { uncorrectableEcc: ecc } : {}),
    ...(retired !== undefined ? { retiredPagesPending: retired } : {}),
    ...(remapPending !== undefined ? { remappedRowsPending: remapPending } : {}),
    ...(remapFailure !== undefined ? { remappedRowsFailure: remapFailure } : {}),
    ...(slowdowns.length > 0 ? { slowdowns } : {}),
  };
}

const notReported = (cell: string) => /^\[.*\]$/.test(cell) || cell === 'N/A';

/** A cell's number without its unit (`87 %`, `61234 MiB`); `undefined` for `[N/A]` and kin. */
function quantity(cell: string, row: string): number | undefined {
  if (notReported(cell)) return undefined;
  const value = Number(cell.replace(/\s*(%|MiB)$/, ''));
  if (cell === '' || !Number.isFinite(value))
    throw new NvidiaSmiOutputError(`unreadable value "${cell}" in: ${truncate(row)}`);
  return value;
}

const truncate = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** What a GPU's health readings mean for the replica. */
export interface GpuHealth {
  /** Why the replica cannot be trusted to serve (each makes it UNHEALTHY), one line each. */
  readonly faults: readonly string[];
  /**
   * The share of speed the slowest throttled GPU has lost, 0–1: 0.5 for a hardware slowdown
   * (nvidia-smi: "reducing the core clocks by a factor of 2 or more"), 0.25 for a software
   * thermal slowdown; 0 when none.
   */
  readonly throttled: number;
  /** The active slowdowns, `GPU 0: hw_thermal_slowdown`, for the report and logs. */
  readonly slowdowns: readonly string[];
}

/** Judges what nvidia-smi said: failures and memory faults are faults; slowdowns throttle. Pure. */
export function gpuHealth(output: NvidiaSmiOutput): GpuHealth {
  const faults = [...output.failures];
  const slowdowns: string[] = [];
  let throttled = 0;
  for (const g of output.gpus) {
    const gpu = `GPU ${g.index}`;
    if ((g.uncorrectableEcc ?? 0) > 0)
      faults.push(`${gpu}: ${g.uncorrectableEcc} uncorrectable ECC errors since the driver loaded`);
    if (g.retiredPagesPending) faults.push(`${gpu}: memory pages pending retirement (reboot)`);
    if (g.remappedRowsPending) faults.push(`${gpu}: row remapping pending (reset the GPU)`);
    if (g.remappedRowsFailure) faults.push(`${gpu}: a row remapping failed`);
    for (const reason of g.slowdowns ?? []) {
      slowdowns.push(`${gpu}: ${reason}`);
      throttled = Math.max(throttled, reason.startsWith('hw_') ? 0.5 : 0.25);
    }
  }
  return { faults, throttled, slowdowns };
}
