import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  kserveV2,
  metricsSampler,
  NoNvidiaSmiError,
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

  test('parses the query output and skips GPUs that cannot report', () => {
    expect(
      parseNvidiaSmi('0, 87, 61234, 81920\n1, [N/A], [N/A], 81920\n2, 3, 1024, 81920\n'),
    ).toEqual([
      { index: 0, utilization: 0.87, memoryUsedMiB: 61234, memoryTotalMiB: 81920 },
      { index: 2, utilization: 0.03, memoryUsedMiB: 1024, memoryTotalMiB: 81920 },
    ]);
  });

  test('runs the binary, and says so clearly when it is absent', async () => {
    const fake = join(dir.path, 'nvidia-smi');
    await writeFile(fake, '#!/bin/sh\necho "0, 42, 2048, 16384"\n');
    await chmod(fake, 0o755);
    expect(await nvidiaSmiSampler(fake)()).toEqual([
      { index: 0, utilization: 0.42, memoryUsedMiB: 2048, memoryTotalMiB: 16384 },
    ]);
    await expect(nvidiaSmiSampler(join(dir.path, 'missing-smi'))()).rejects.toBeInstanceOf(
      NoNvidiaSmiError,
    );
  });
});
