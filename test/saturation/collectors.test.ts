import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  gpuCollector,
  hostCollector,
  hostSampler,
  kserveV2,
  metricsSampler,
  NoNvidiaSmiError,
  NvidiaSmiOutputError,
  nvidiaSmiSampler,
  PeriodicCollector,
  parseNvidiaSmi,
  readinessSampler,
} from '../../src/saturation/collectors/index.ts';
import { METRIC_PRESETS } from '../../src/saturation/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  type ModelServerStub,
  startModelServerStub,
  vllmMetrics,
} from '../helpers/model-server-stub.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const vllm = vllmMetrics;

describe('collectors against a real HTTP model-server stand-in', () => {
  let server: ModelServerStub;
  beforeAll(async () => {
    server = await startModelServerStub();
  });
  afterAll(() => server.close());

  /** A metrics collector on the stand-in with the vLLM preset, driven by a fake clock. */
  const metricsCollector = () => {
    const clock = new FakeClock();
    const sample = metricsSampler(
      `${server.base}/metrics`,
      METRIC_PRESETS.vllm as never,
      1000,
      () => clock.now(),
    );
    return {
      clock,
      collector: new PeriodicCollector({ name: 'metrics', sample, intervalMs: 100, clock }),
    };
  };

  test('the metrics sampler follows changing metric text', async () => {
    const { clock, collector } = metricsCollector();
    server.metrics = vllm(0, 2, 0.1);
    expect((await collector.sampleNow()).value?.signals).toMatchObject({
      queue: { value: 0 },
      running: { value: 2 },
      kvCache: { value: 0.1 },
    });
    server.metrics = vllm(12, 64, 0.97);
    clock.advance(100);
    const state = await collector.sampleNow();
    expect(state.value?.signals).toMatchObject({
      queue: { value: 12, at: clock.now() },
      kvCache: { value: 0.97 },
    });
  });

  test('request and error rates come from the counters between two scrapes', async () => {
    const { clock, collector } = metricsCollector();
    server.metrics = vllm(0, 2, 0.1, { requests: 1000, errors: 4 });
    const first = await collector.sampleNow();
    expect(first.value?.signals.requestRate).toBeUndefined();
    server.metrics = vllm(0, 2, 0.1, { requests: 1050, errors: 5 });
    clock.advance(500);
    const second = await collector.sampleNow();
    expect(second.value?.signals).toMatchObject({
      requestRate: { value: 100, at: clock.now() },
      errorRate: { value: 2, at: clock.now() },
    });
    // The server restarted: its counters went down, so no rate this time.
    server.metrics = vllm(0, 2, 0.1, { requests: 3 });
    clock.advance(500);
    expect((await collector.sampleNow()).value?.signals.requestRate).toBeUndefined();
  });

  test('a failing scrape keeps the last good value, counts failures, and says why', async () => {
    const { collector } = metricsCollector();
    server.metrics = vllm(1, 1, 0.5);
    server.metricsStatus = 200;
    const good = await collector.sampleNow();
    server.metricsStatus = 500;
    await collector.sampleNow();
    server.metricsStatus = 200;
    server.metrics = 'not{{ metrics';
    const bad = await collector.sampleNow();
    expect(bad).toMatchObject({
      value: good.value,
      at: good.at,
      consecutiveFailures: 2,
      error: expect.stringContaining('invalid metrics text'),
    });
    server.metrics = vllm(0, 0, 0);
    expect((await collector.sampleNow()).consecutiveFailures).toBe(0);
  });

  test('readiness: unreachable is unhealthy, 503 is not ready, 200 is ready, per model too', async () => {
    const dead = readinessSampler({ url: 'http://127.0.0.1:1/v2/health/ready', timeoutMs: 500 });
    expect(await dead()).toEqual({ healthy: false, ready: false, models: {} });
    const probe = readinessSampler({
      ...kserveV2(server.base),
      models: ['llama', 'qwen'],
      timeoutMs: 1000,
    });
    server.ready = false;
    expect(await probe()).toEqual({
      healthy: true,
      ready: false,
      models: { llama: false, qwen: false },
    });
    server.ready = true;
    server.modelsReady.set('llama', true);
    expect(await probe()).toEqual({
      healthy: true,
      ready: true,
      models: { llama: true, qwen: false },
    });
  });

  test('a periodic collector samples on its interval and never overlaps', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const collector = new PeriodicCollector({
      name: 'count',
      sample: async () => ++calls,
      intervalMs: 100,
      clock,
    });
    collector.start();
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toBe(1);
    clock.advance(100);
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(100);
    await Promise.resolve();
    expect(calls).toBe(3);
    collector.stop();
    clock.advance(1000);
    expect(calls).toBe(3);
  });
});

describe('nvidia-smi', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    dir = await tempDir('filament-smi-');
  });
  afterAll(() => dir.remove());

  const fixture = (name: string) =>
    readFileSync(join(import.meta.dir, '..', 'fixtures', 'nvidia-smi', name), 'utf8');

  test('reads real output: several GPUs per host', () => {
    expect(parseNvidiaSmi(fixture('dual-a5000.csv'))).toEqual([
      { index: 0, utilization: 0, memoryUsedMiB: 22437, memoryTotalMiB: 24564 },
      { index: 1, utilization: 0, memoryUsedMiB: 17253, memoryTotalMiB: 24564 },
    ]);
  });

  test('reads real output: a GPU with no processes', () => {
    expect(parseNvidiaSmi(fixture('h200-idle-no-processes.csv'))).toEqual([
      { index: 0, utilization: 0, memoryUsedMiB: 0, memoryTotalMiB: 143771 },
    ]);
  });

  test('reads real output: MIG mode reports memory but no utilization', () => {
    expect(parseNvidiaSmi(fixture('h100-mig-idle.csv'))).toEqual([
      { index: 0, memoryUsedMiB: 59, memoryTotalMiB: 81559 },
    ]);
  });

  test('fails the whole sample, naming the GPU, when nvidia-smi prints an error line', () => {
    expect(() => parseNvidiaSmi(fixture('gpu-lost.csv'))).toThrow(
      /Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost/,
    );
  });

  test('finds columns by name, in any order and among others', () => {
    const text =
      'name, memory.total [MiB], index, memory.used [MiB], utilization.gpu [%]\n' +
      'NVIDIA H100 80GB HBM3, 81559 MiB, 3, 11125 MiB, 87 %\n';
    expect(parseNvidiaSmi(text)).toEqual([
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
    // Memory may be N/A too in some MIG setups; a row with only its index is still a GPU.
    expect(parseNvidiaSmi(`${header}0, [N/A], [N/A], [N/A]\n`)).toEqual([{ index: 0 }]);
  });

  test('runs the binary, and says so clearly when it is absent', async () => {
    const fake = join(dir.path, 'nvidia-smi');
    await writeFile(fake, `#!/bin/sh\nprintf '%s' '${fixture('dual-a5000.csv')}'\n`);
    await chmod(fake, 0o755);
    expect(await nvidiaSmiSampler(fake)()).toHaveLength(2);
    const lost = join(dir.path, 'nvidia-smi-lost');
    await writeFile(lost, `#!/bin/sh\nprintf '%s' '${fixture('gpu-lost.csv')}'\nexit 15\n`);
    await chmod(lost, 0o755);
    await expect(nvidiaSmiSampler(lost)()).rejects.toThrow(/GPU is lost/);
    await expect(nvidiaSmiSampler(join(dir.path, 'missing-smi'))()).rejects.toBeInstanceOf(
      NoNvidiaSmiError,
    );
  });

  test('the collector gives the busiest GPU and the fullest GPU memory (MIG: memory only)', async () => {
    const clock = new FakeClock();
    const fake = join(dir.path, 'nvidia-smi-dual');
    await writeFile(fake, `#!/bin/sh\nprintf '%s' '${fixture('dual-a5000.csv')}'\n`);
    await chmod(fake, 0o755);
    const dual = gpuCollector({ binary: fake, intervalMs: 1000, clock });
    await dual.sampleNow();
    expect(dual.contribution().signals).toEqual({
      gpu: { value: 0, at: clock.now() },
      gpuMemory: { value: 22437 / 24564, at: clock.now() },
    });
    const mig = join(dir.path, 'nvidia-smi-mig');
    await writeFile(mig, `#!/bin/sh\nprintf '%s' '${fixture('h100-mig-idle.csv')}'\n`);
    await chmod(mig, 0o755);
    const migCollector = gpuCollector({ binary: mig, intervalMs: 1000, clock });
    await migCollector.sampleNow();
    expect(migCollector.contribution().signals).toEqual({
      gpuMemory: { value: 59 / 81559, at: clock.now() },
    });
  });
});

describe('host', () => {
  test('CPU busy between two samples over every CPU, and memory in use', async () => {
    let times = [
      { user: 1000, nice: 0, sys: 500, idle: 8500, irq: 0 },
      { user: 2000, nice: 0, sys: 0, idle: 8000, irq: 0 },
    ];
    const source = {
      cpus: () => times.map((t) => ({ times: t })),
      freemem: () => 6 * 2 ** 30,
      totalmem: () => 8 * 2 ** 30,
    };
    const sample = hostSampler(source);
    expect(await sample()).toEqual({ memory: 0.25 });
    // CPU 0: 1,000 ms more busy, 1,000 more idle; CPU 1: 3,000 more idle — 1,000 of 5,000.
    times = [
      { user: 1800, nice: 0, sys: 700, idle: 9500, irq: 0 },
      { user: 2000, nice: 0, sys: 0, idle: 11000, irq: 0 },
    ];
    expect(await sample()).toEqual({ cpu: 0.2, memory: 0.25 });
  });

  test('a runtime that reports no CPU times gives memory only', async () => {
    const source = {
      cpus: () => [{ times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } }],
      freemem: () => 1,
      totalmem: () => 4,
    };
    const sample = hostSampler(source);
    await sample();
    expect(await sample()).toEqual({ memory: 0.75 });
  });

  test('the collector contributes hostCpu and hostMemory', async () => {
    const clock = new FakeClock();
    const collector = hostCollector({ intervalMs: 1000, clock });
    await collector.sampleNow();
    await Bun.sleep(100); // the kernel counts CPU time in 10 ms ticks
    await collector.sampleNow();
    const signals = collector.contribution().signals ?? {};
    expect(signals.hostMemory?.value).toBeGreaterThan(0);
    expect(signals.hostMemory?.value).toBeLessThanOrEqual(1);
    expect(signals.hostCpu?.value).toBeGreaterThanOrEqual(0);
  });
});
