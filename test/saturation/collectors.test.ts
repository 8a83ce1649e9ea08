import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  hostCollector,
  hostSampler,
  kserveV2,
  metricsSampler,
  PeriodicCollector,
  readinessSampler,
} from '../../src/saturation/collectors/index.ts';
import { METRIC_PRESETS } from '../../src/saturation/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  type ModelServerStub,
  startModelServerStub,
  vllmMetrics,
} from '../helpers/model-server-stub.ts';

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
    // Not metrics at all (an error page answered 200): refused, not read as "no signals".
    server.metrics = '<html><body>Bad gateway</body></html>';
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
