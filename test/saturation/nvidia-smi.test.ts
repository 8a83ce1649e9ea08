import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  gpuCollector,
  gpuHealth,
  NoNvidiaSmiError,
  NVIDIA_SMI_ARGS,
  NVIDIA_SMI_BASIC_ARGS,
  NvidiaSmiOutputError,
  nvidiaSmiSampler,
  parseNvidiaSmi,
} from '../../src/saturation/collectors/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'nvidia-smi');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const capture = (name: string) => fixture(join('query-gpu', name));
const H100_LOAD = 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__load__query-gpu.csv';

/** A real capture with one cell of its data row changed (no capture has the state wanted). */
function withCell(name: string, column: string, value: string): string {
  return setCell(capture(name), column, value);
}

/** `text` (a header and one data row) with the cell of `column` set to `value`. */
function setCell(text: string, column: string, value: string): string {
  const [header, row, ...rest] = text.split('\n');
  const names = (header as string).split(',').map((c) => c.trim());
  const cells = (row as string).split(', ');
  const at = names.findIndex((n) => n === column || n.startsWith(`${column} [`));
  if (at === -1) throw new Error(`no ${column} column`);
  cells[at] = value;
  return [header, cells.join(', '), ...rest].join('\n');
}

describe('nvidia-smi output', () => {
  test('every real capture parses: basic columns, health columns, [N/A] and deprecated cells', () => {
    const files = readdirSync(join(FIXTURES, 'query-gpu'));
    expect(files).toHaveLength(20);
    for (const file of files) {
      const output = parseNvidiaSmi(capture(file));
      expect(output.failures).toEqual([]);
      expect(output.gpus).toHaveLength(1);
      const [gpu] = output.gpus;
      expect(gpu?.index).toBe(0);
      expect(gpu?.memoryTotalMiB).toBeGreaterThan(0);
      // None of the machines had a memory fault or a slowdown that costs speed.
      expect(gpuHealth(output)).toEqual({ faults: [], throttled: 0, slowdowns: [] });
    }
  });

  // Values read off the files by hand (the column, then the cell).
  const CASES: Array<[string, Record<string, unknown>]> = [
    [
      // utilization.gpu 100 %, memory.used 19818 MiB, memory.total 81559 MiB,
      // ecc.errors.uncorrected.volatile.total 0, retired_pages.pending [N/A],
      // remapped_rows.pending No, remapped_rows.failure No
      H100_LOAD,
      {
        index: 0,
        utilization: 1,
        memoryUsedMiB: 19818,
        memoryTotalMiB: 81559,
        uncorrectableEcc: 0,
        remappedRowsPending: false,
        remappedRowsFailure: false,
      },
    ],
    [
      // MIG: utilization.gpu [N/A], memory 11125 / 81559 MiB, ECC 0, remapped_rows.* [N/A]
      'linux-x86_64__nvidia-h100-mig__590.48.01__load__query-gpu.csv',
      { index: 0, memoryUsedMiB: 11125, memoryTotalMiB: 81559, uncorrectableEcc: 0 },
    ],
    [
      // MIG with compute instances: [N/A], 16959 / 143771 MiB, ECC 0
      'linux-x86_64__nvidia-h200-mig__590.48.01__load__query-gpu.csv',
      { index: 0, memoryUsedMiB: 16959, memoryTotalMiB: 143771, uncorrectableEcc: 0 },
    ],
    [
      // A consumer card without ECC: every health cell [N/A]; 8 %, 819 / 8192 MiB
      'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__load__query-gpu.csv',
      { index: 0, utilization: 0.08, memoryUsedMiB: 819, memoryTotalMiB: 8192 },
    ],
    [
      // Windows (WDDM), driver 610.62: 7 %, 1366 / 8192 MiB
      'windows-x86_64__nvidia-geforce-rtx-2080-super__610.62__load__query-gpu.csv',
      { index: 0, utilization: 0.07, memoryUsedMiB: 1366, memoryTotalMiB: 8192 },
    ],
  ];
  for (const [file, gpu] of CASES)
    test(`reads ${file}`, () => {
      expect(parseNvidiaSmi(capture(file))).toEqual({ gpus: [gpu as never], failures: [] });
    });

  test("the smaller captures of filament's own four columns still parse", () => {
    expect(parseNvidiaSmi(fixture('dual-a5000.csv')).gpus).toEqual([
      { index: 0, utilization: 0, memoryUsedMiB: 22437, memoryTotalMiB: 24564 },
      { index: 1, utilization: 0, memoryUsedMiB: 17253, memoryTotalMiB: 24564 },
    ]);
    expect(parseNvidiaSmi(fixture('h100-mig-idle.csv')).gpus).toEqual([
      { index: 0, memoryUsedMiB: 59, memoryTotalMiB: 81559 },
    ]);
  });

  test('a lost GPU and an unreachable driver are failures, and faults', () => {
    const lost = parseNvidiaSmi(fixture('gpu-lost.csv'));
    expect(lost.gpus).toHaveLength(1);
    expect(lost.failures).toEqual([
      'Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost. Reboot the system to recover this GPU',
    ]);
    const driver = parseNvidiaSmi(fixture('error-driver-unreachable.exit9.stdout.txt'));
    expect(driver).toEqual({
      gpus: [],
      failures: [
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      ],
    });
    expect(gpuHealth(driver).faults).toEqual(driver.failures);
  });

  test('memory faults make faults; slowdowns throttle (real H100 row, one cell changed in code)', () => {
    expect(
      gpuHealth(parseNvidiaSmi(withCell(H100_LOAD, 'ecc.errors.uncorrected.volatile.total', '2'))),
    ).toMatchObject({
      faults: ['GPU 0: 2 uncorrectable ECC errors since the driver loaded'],
    });
    expect(
      gpuHealth(parseNvidiaSmi(withCell(H100_LOAD, 'remapped_rows.pending', 'Yes'))).faults,
    ).toEqual(['GPU 0: row remapping pending (reset the GPU)']);
    expect(
      gpuHealth(parseNvidiaSmi(withCell(H100_LOAD, 'remapped_rows.failure', 'Yes'))).faults,
    ).toEqual(['GPU 0: a row remapping failed']);
    const hot = gpuHealth(
      parseNvidiaSmi(withCell(H100_LOAD, 'clocks_event_reasons.hw_thermal_slowdown', 'Active')),
    );
    expect(hot).toEqual({ faults: [], throttled: 0.5, slowdowns: ['GPU 0: hw_thermal_slowdown'] });
    const warm = gpuHealth(
      parseNvidiaSmi(withCell(H100_LOAD, 'clocks_event_reasons.sw_thermal_slowdown', 'Active')),
    );
    expect(warm.throttled).toBe(0.25);
    // Power capping is ordinary operation: the idle RTX 2080 capture has it active, unthrottled.
    const capped = 'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05__idle__query-gpu.csv';
    expect(capture(capped)).toContain('Active');
    expect(gpuHealth(parseNvidiaSmi(capture(capped))).throttled).toBe(0);
  });

  test('finds columns by name, in any order and among others', () => {
    const text =
      'name, memory.total [MiB], index, memory.used [MiB], utilization.gpu [%]\n' +
      'NVIDIA H100 80GB HBM3, 81559 MiB, 3, 11125 MiB, 87 %\n';
    expect(parseNvidiaSmi(text).gpus).toEqual([
      { index: 3, utilization: 0.87, memoryUsedMiB: 11125, memoryTotalMiB: 81559 },
    ]);
  });

  test('refuses output that is not what was asked for, saying what is wrong', () => {
    expect(() => parseNvidiaSmi('')).toThrow(NvidiaSmiOutputError);
    expect(() => parseNvidiaSmi('index, memory.used [MiB]\n0, 5 MiB\n')).toThrow(
      /lacks utilization.gpu, memory.total/,
    );
    const header = 'index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n';
    expect(() => parseNvidiaSmi(`${header}0, lots, 1 MiB, 2 MiB\n`)).toThrow(
      /unreadable value "lots"/,
    );
    expect(() => parseNvidiaSmi(`${header}[N/A], 1 %, 1 MiB, 2 MiB\n`)).toThrow(/no GPU index/);
    expect(() => parseNvidiaSmi(withCell(H100_LOAD, 'remapped_rows.pending', 'Perhaps'))).toThrow(
      /unreadable remapped_rows.pending "Perhaps"/,
    );
    // Memory may be N/A too in some MIG setups; a row with only its index is still a GPU.
    expect(parseNvidiaSmi(`${header}0, [N/A], [N/A], [N/A]\n`).gpus).toEqual([{ index: 0 }]);
  });
});

describe('the nvidia-smi binary', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    dir = await tempDir('filament-smi-');
  });
  afterAll(() => dir.remove());

  /** A stand-in nvidia-smi printing `text` (and exiting `code`). */
  async function fake(name: string, text: string, code = 0): Promise<string> {
    const path = join(dir.path, name);
    await writeFile(join(dir.path, `${name}.out`), text);
    await writeFile(path, `#!/bin/sh\ncat '${join(dir.path, `${name}.out`)}'\nexit ${code}\n`);
    await chmod(path, 0o755);
    return path;
  }

  test('is asked for the health columns, by the names every captured driver accepts', () => {
    expect(NVIDIA_SMI_ARGS[0]).toBe(
      '--query-gpu=index,utilization.gpu,memory.used,memory.total,ecc.errors.uncorrected.volatile.total,retired_pages.pending,remapped_rows.pending,remapped_rows.failure,clocks_throttle_reasons.hw_slowdown,clocks_throttle_reasons.hw_thermal_slowdown,clocks_throttle_reasons.hw_power_brake_slowdown,clocks_throttle_reasons.sw_thermal_slowdown',
    );
    // Every column asked for is one every captured driver prints (throttle names as aliases of
    // clocks_event_reasons.*, which the captures' --help-query-gpu lists as accepted).
    const asked = (NVIDIA_SMI_ARGS[0] as string).replace('--query-gpu=', '').split(',');
    for (const file of readdirSync(join(FIXTURES, 'query-gpu'))) {
      const header = capture(file).split('\n')[0] as string;
      const columns = header.split(',').map((c) =>
        c
          .trim()
          .replace(/ \[.*\]$/, '')
          .replace('clocks_event_reasons.', 'clocks_throttle_reasons.'),
      );
      expect(asked.filter((c) => !columns.includes(c))).toEqual([]);
    }
  });

  test('a lost GPU and an unreachable driver are good samples carrying the failure', async () => {
    const lost = await fake('lost', fixture('gpu-lost.csv'), 15);
    expect((await nvidiaSmiSampler(lost)()).failures).toHaveLength(1);
    const driver = await fake('driver', fixture('error-driver-unreachable.exit9.stdout.txt'), 9);
    expect((await nvidiaSmiSampler(driver)()).failures[0]).toStartWith('NVIDIA-SMI has failed');
    await expect(nvidiaSmiSampler(join(dir.path, 'missing-smi'))()).rejects.toBeInstanceOf(
      NoNvidiaSmiError,
    );
    const broken = await fake('broken', 'Segmentation fault\n', 139);
    await expect(nvidiaSmiSampler(broken)()).rejects.toThrow(NvidiaSmiOutputError);
  });

  test('a driver that refuses a health column is asked for the basic ones from then on', async () => {
    const path = join(dir.path, 'old-driver');
    const log = join(dir.path, 'old-driver.log');
    await writeFile(
      path,
      [
        '#!/bin/sh',
        `echo "$1" >> '${log}'`,
        'case "$1" in',
        '  *remapped_rows*) echo \'Field "remapped_rows.pending" is not a valid field to query.\'; exit 2 ;;',
        `  *) printf '%s' '${fixture('dual-a5000.csv')}' ;;`,
        'esac',
      ].join('\n'),
    );
    await chmod(path, 0o755);
    const sample = nvidiaSmiSampler(path);
    expect((await sample()).gpus).toHaveLength(2);
    expect((await sample()).gpus).toHaveLength(2);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      NVIDIA_SMI_ARGS[0],
      NVIDIA_SMI_BASIC_ARGS[0],
      NVIDIA_SMI_BASIC_ARGS[0],
    ]);
  });

  test('the collector: busiest GPU, fullest GPU memory, throttle and faults', async () => {
    const clock = new FakeClock();
    const dual = gpuCollector({
      binary: await fake('dual', fixture('dual-a5000.csv')),
      intervalMs: 1000,
      clock,
    });
    await dual.sampleNow();
    expect(dual.contribution()).toEqual({
      signals: {
        gpu: { value: 0, at: clock.now() },
        gpuMemory: { value: 22437 / 24564, at: clock.now() },
        throttled: { value: 0, at: clock.now() },
      },
    });
    const hot = gpuCollector({
      binary: await fake(
        'hot',
        setCell(
          withCell(H100_LOAD, 'clocks_event_reasons.hw_slowdown', 'Active'),
          'ecc.errors.uncorrected.volatile.total',
          '3',
        ),
      ),
      intervalMs: 1000,
      clock,
    });
    await hot.sampleNow();
    expect(hot.contribution()).toMatchObject({
      signals: { gpu: { value: 1 }, throttled: { value: 0.5 } },
      faults: ['GPU 0: 3 uncorrectable ECC errors since the driver loaded'],
      slowdowns: ['GPU 0: hw_slowdown'],
    });
  });
});
