import { describe, expect, test } from 'bun:test';
import {
  ENDPOINT_LOAD_METRICS_HEADER,
  endpointLoadMetrics,
  toOrcaLoad,
  UNSERVABLE_UTILIZATION,
} from '../../src/orca/index.ts';
import type { ReplicaState, SaturationReport } from '../../src/report/index.ts';

const report: SaturationReport = {
  replica: 'gpu-host-17',
  cluster: 'gpu-east',
  state: 'READY',
  score: 0.42,
  queue: 3,
  running: 12,
  kvCache: 0.42,
  gpu: 0.9,
  gpuMemory: 0.93,
  hostCpu: 0.2,
  hostMemory: 0.3,
  latencyMs: 850,
  requestRate: 37.5,
  errorRate: 0.25,
  seq: 9,
  at: 1,
};

/**
 * The TEXT encoding read by the rules Envoy's ORCA header parser applies (source/common/orca):
 * comma-separated `name:value`; names are five report fields or `named_metrics.<key>`; values
 * finite numbers; no name twice.
 */
function readText(value: string): Record<string, number> {
  expect(value.startsWith('TEXT ')).toBe(true);
  const out: Record<string, number> = {};
  const known = [
    'application_utilization',
    'cpu_utilization',
    'mem_utilization',
    'rps_fractional',
    'eps',
  ];
  for (const part of value.slice(5).split(',')) {
    const [name, text] = part.trim().split(/:(.*)/s) as [string, string];
    expect(known.includes(name) || /^named_metrics\.[^,:]+$/.test(name)).toBe(true);
    expect(name in out).toBe(false);
    const number = Number(text);
    expect(Number.isFinite(number)).toBe(true);
    out[name] = number;
  }
  return out;
}

describe('toOrcaLoad', () => {
  test('maps the score, GPU, request and error rates, KV cache and named signals', () => {
    expect(toOrcaLoad(report)).toEqual({
      application_utilization: 0.42,
      cpu_utilization: 0.9,
      mem_utilization: 0.93,
      rps_fractional: 37.5,
      eps: 0.25,
      utilization: { score: 0.42, kv_cache: 0.42 },
      named_metrics: { ready: 1, queue: 3, running: 12, kv_cache: 0.42, latency_ms: 850 },
    });
  });

  test("without nvidia-smi, cpu and mem utilization are the host's", () => {
    const { gpu: _g, gpuMemory: _m, ...noGpu } = report;
    expect(toOrcaLoad(noGpu)).toMatchObject({ cpu_utilization: 0.2, mem_utilization: 0.3 });
  });

  test('leaves out what is not known', () => {
    const bare = toOrcaLoad({
      replica: 'r',
      cluster: 'c',
      state: 'READY',
      score: 0,
      seq: 1,
      at: 1,
    });
    expect(bare).toEqual({
      application_utilization: 0,
      utilization: { score: 0 },
      named_metrics: { ready: 1 },
    });
  });

  test('weighted round robin weight (rate ÷ utilization) falls as the replica fills', () => {
    const weight = (score: number, state: ReplicaState = 'READY') => {
      const load = toOrcaLoad({ ...report, score, state });
      return (load.rps_fractional ?? 0) / load.application_utilization;
    };
    expect(weight(0.9, 'SATURATED')).toBeLessThan(weight(0.45));
    expect(weight(0.45) / weight(0.9, 'SATURATED')).toBeCloseTo(2, 9);
    // WARMING: at most half the weight of an idle replica at the same rate.
    expect(toOrcaLoad({ ...report, state: 'WARMING', score: 0.1 }).application_utilization).toBe(
      0.5,
    );
    // States that should get nothing report a utilization that leaves a hundredth of the weight.
    for (const state of ['COLD', 'DRAINING', 'UNHEALTHY', 'STALE_RULES', 'OFFLINE'] as const) {
      const load = toOrcaLoad({ ...report, state, score: 0.1 });
      expect(load.application_utilization).toBe(UNSERVABLE_UTILIZATION);
      expect(load.named_metrics.ready).toBe(0);
    }
  });

  test('out-of-range readings are clamped where ORCA bounds them', () => {
    const load = toOrcaLoad({
      ...report,
      score: 1.7,
      kvCache: 1.2,
      gpuMemory: 1.01,
      requestRate: -1,
    });
    expect(load.application_utilization).toBe(1);
    expect(load.mem_utilization).toBe(1);
    expect(load.utilization.kv_cache).toBe(1);
    expect(load.rps_fractional).toBe(0);
  });
});

describe('endpointLoadMetrics', () => {
  test('TEXT: what Envoy parses, every field and named metric', () => {
    expect(ENDPOINT_LOAD_METRICS_HEADER).toBe('endpoint-load-metrics');
    const value = endpointLoadMetrics(toOrcaLoad(report), 'TEXT');
    expect(value).toBe(
      'TEXT application_utilization:0.42,cpu_utilization:0.9,mem_utilization:0.93,rps_fractional:37.5,eps:0.25,named_metrics.ready:1,named_metrics.queue:3,named_metrics.running:12,named_metrics.kv_cache:0.42,named_metrics.latency_ms:850',
    );
    expect(readText(value)).toMatchObject({ application_utilization: 0.42, rps_fractional: 37.5 });
    expect(endpointLoadMetrics(toOrcaLoad(report))).toBe(value);
  });

  test('JSON: the OrcaLoadReport in protobuf JSON, utilization included', () => {
    const value = endpointLoadMetrics(toOrcaLoad(report), 'JSON');
    expect(value.startsWith('JSON {')).toBe(true);
    expect(JSON.parse(value.slice(5))).toEqual({
      application_utilization: 0.42,
      cpu_utilization: 0.9,
      mem_utilization: 0.93,
      rps_fractional: 37.5,
      eps: 0.25,
      utilization: { score: 0.42, kv_cache: 0.42 },
      named_metrics: { ready: 1, queue: 3, running: 12, kv_cache: 0.42, latency_ms: 850 },
    });
  });

  test('tiny and huge numbers stay numbers the parser takes', () => {
    const value = endpointLoadMetrics(
      toOrcaLoad({ ...report, requestRate: 1e-7, queue: 12_345_678_901 }),
    );
    expect(readText(value)).toMatchObject({
      rps_fractional: 1e-7,
      'named_metrics.queue': 12_345_678_901,
    });
  });
});
