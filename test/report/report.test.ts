import { describe, expect, test } from 'bun:test';
import { pack, unpack } from 'msgpackr';
import { decodeReport, encodeReport, type SaturationReport } from '../../src/report/index.ts';

/** A report's wire map, to alter one field of. */
const encodeReportWire = (r: SaturationReport) =>
  unpack(encodeReport(r)) as Record<string, unknown>;

const typical: SaturationReport = {
  replica: 'gpu-host-017',
  cluster: 'gpu-east-a100',
  state: 'READY',
  score: 0.41234,
  queue: 3,
  running: 27,
  kvCache: 0.4219,
  gpu: 0.87,
  latencyMs: 412.34,
  requestRate: 37.4167,
  errorRate: 0.25,
  gpuMemory: 0.912,
  signalAgeMs: 84,
  models: [
    { id: 'llama-3.1-8b-instruct', version: '2026-10-01', ready: true },
    { id: 'qwen-2.5-7b-instruct', version: '2026-09-15', ready: false },
  ],
  ruleVersions: { acme: 42, globex: 7 },
  seq: 1234,
  at: Date.parse('2026-11-23T12:00:00Z'),
};

describe('SaturationReport wire format', () => {
  test('a typical report is at most 256 bytes', () => {
    expect(encodeReport(typical).byteLength).toBeLessThanOrEqual(256);
  });

  test('round-trips, with scores rounded to 3 decimals', () => {
    expect(decodeReport(encodeReport(typical))).toEqual({
      ...typical,
      score: 0.412,
      kvCache: 0.422,
      latencyMs: 412, // whole ms from 100 ms up (0.1 ms below)
      requestRate: 37.417,
    });
    // Hardware faults and a throttle travel too.
    const sick = {
      ...typical,
      state: 'UNHEALTHY' as const,
      faults: ['GPU 0: a row remapping failed'],
      throttled: 0.5,
    };
    expect(decodeReport(encodeReport(sick))).toMatchObject({ faults: sick.faults, throttled: 0.5 });
    // Keys its request-path check keeps refusing, for resolvers to stop sending.
    const refusing = {
      ...typical,
      refusals: [{ tenant: 'acme', routingKey: 'acme.llama-8b', count: 12 }],
    };
    expect(decodeReport(encodeReport(refusing))).toMatchObject({ refusals: refusing.refusals });
    expect(
      'error' in
        decodeReport(
          pack({ ...(encodeReportWire(refusing) as object), rf: [['acme', 'k', 0]] }) as Uint8Array,
        ),
    ).toBe(true);
    // A host without nvidia-smi reports its own CPU and memory instead.
    const { gpu: _g, gpuMemory: _m, ...noGpu } = typical;
    const host = { ...noGpu, hostCpu: 0.1234, hostMemory: 0.25 };
    expect(decodeReport(encodeReport(host))).toMatchObject({ hostCpu: 0.123, hostMemory: 0.25 });
    expect(encodeReport(host).byteLength).toBeLessThanOrEqual(256);
    // Capacity always travels; the heartbeat only when it is not the default 5 s.
    const withCapacity = { ...typical, capacity: 64, heartbeatMs: 5000 };
    expect(encodeReport(withCapacity).byteLength).toBeLessThanOrEqual(256);
    expect(decodeReport(encodeReport(withCapacity))).toMatchObject({ capacity: 64 });
    expect(decodeReport(encodeReport(withCapacity))).not.toHaveProperty('heartbeatMs');
    expect(decodeReport(encodeReport({ ...typical, heartbeatMs: 20_000 }))).toMatchObject({
      heartbeatMs: 20_000,
    });
    const minimal: SaturationReport = {
      replica: 'r',
      cluster: 'c',
      state: 'OFFLINE',
      score: 1,
      seq: 0,
      at: 1,
    };
    expect(decodeReport(encodeReport(minimal))).toEqual(minimal);
  });

  test('refuses what is not a report, saying why', () => {
    expect(decodeReport(new Uint8Array([0xc1]))).toMatchObject({
      error: expect.stringContaining('MALFORMED'),
    });
    expect(
      decodeReport(pack({ v: 2, r: 'r', c: 'c', s: 'READY', sc: 0, seq: 0, t: 0 })),
    ).toMatchObject({ error: expect.stringContaining('/v') });
    expect(
      decodeReport(pack({ v: 1, r: 'r', c: 'c', s: 'HAPPY', sc: 0, seq: 0, t: 0 })),
    ).toMatchObject({ error: expect.stringContaining('/s') });
    expect(
      decodeReport(pack({ v: 1, r: 'r', c: 'c', s: 'READY', sc: 3, seq: 0, t: 0 })),
    ).toMatchObject({ error: expect.stringContaining('/sc') });
  });
});
