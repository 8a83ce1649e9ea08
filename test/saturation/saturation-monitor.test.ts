import { describe, expect, test } from 'bun:test';
import { StaticModelInventory } from '../../src/inventory/index.ts';
import { createLogger } from '../../src/log/index.ts';
import { encodeReport, type SaturationReport } from '../../src/report/index.ts';
import { PeriodicCollector } from '../../src/saturation/collectors/index.ts';
import {
  type Collector,
  type CollectorUpdate,
  type Contribution,
  DEFAULT_THRESHOLDS,
  NoNvidiaSmiError,
  SaturationMonitor,
  type SaturationMonitorOptions,
} from '../../src/saturation/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

// Unit tests: the monitor with collectors a test controls and a fake clock, no server, no broker.
// Against a real HTTP stand-in and a real broker: collectors.test.ts and reports.integration.test.ts.

/** A collector whose contribution the test sets, and which records its lifecycle. */
class ScriptedCollector implements Collector {
  now: Contribution = {};
  at: number | undefined;
  started = 0;
  stopped = 0;
  private listener: ((update: CollectorUpdate) => void) | undefined;

  constructor(readonly name: string) {}
  start(onUpdate?: (update: CollectorUpdate) => void): void {
    this.started++;
    this.listener = onUpdate;
  }
  stop(): void {
    this.stopped++;
  }
  contribution(): Contribution {
    return this.now;
  }
  lastSampleAt(): number | undefined {
    return this.at;
  }
  /** Sets what it contributes and tells the monitor, as a fresh sample would. */
  sample(contribution: Contribution, at: number): void {
    this.now = contribution;
    this.at = at;
    this.listener?.({ consecutiveFailures: 0, at });
  }
  fail(error: string, failures: number): void {
    this.listener?.({ error, consecutiveFailures: failures });
  }
  /** A good sample whose source reported impossible values. */
  corrected(corrections: CollectorUpdate['corrections'], at: number): void {
    this.at = at;
    this.listener?.({ consecutiveFailures: 0, at, ...(corrections ? { corrections } : {}) });
  }
}

const thresholds = { ...DEFAULT_THRESHOLDS, warmupMs: 1000, smoothing: 1, staleAfterMs: 2000 };

function monitor(collectors: Collector[], overrides: Partial<SaturationMonitorOptions> = {}) {
  const clock = new FakeClock();
  const published: SaturationReport[] = [];
  const updates: string[] = [];
  let draining = false;
  let rules = { versions: { acme: 3 } as Record<string, number>, stale: false };
  const m = new SaturationMonitor({
    replica: 'host-1',
    cluster: 'gpu-east',
    clock,
    thresholds,
    publishPolicy: { heartbeatMs: 5000, minGapMs: 50, scoreStep: 0.1 },
    evaluateMs: 100,
    collectors,
    models: new StaticModelInventory([{ id: 'llama', version: '1', ready: true }]),
    rules: () => rules,
    draining: () => draining,
    publish: (report) => published.push(report),
    onCollectorUpdate: (name, u) => updates.push(`${name}:${u.error ?? 'ok'}`),
    ...overrides,
  });
  return {
    m,
    clock,
    published,
    updates,
    drain: () => (draining = true),
    setRules: (next: typeof rules) => (rules = next),
  };
}

describe('SaturationMonitor', () => {
  test('starts and stops every collector it was given', () => {
    const a = new ScriptedCollector('a');
    const b = new ScriptedCollector('b');
    const { m } = monitor([a, b]);
    m.start();
    m.stop();
    m.stop();
    expect([a.started, b.started]).toEqual([1, 1]);
    expect(a.stopped).toBeGreaterThanOrEqual(1);
    expect(b.stopped).toBeGreaterThanOrEqual(1);
  });

  test('a report lists at most 32 models, however many adapters the server has', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({
      id: `lora-${i}`,
      version: '1',
      ready: true,
    }));
    const { m, published } = monitor([], { models: new StaticModelInventory(many) });
    m.start();
    m.stop();
    expect(published[0]?.models).toHaveLength(32);
    expect(encodeReport(published[0] as SaturationReport).byteLength).toBeLessThan(2048);
  });

  test('drift makes the replica UNHEALTHY and is named in the report', () => {
    const { m, published } = monitor([], { drift: () => ['llama'] });
    m.start();
    m.stop();
    expect(published[0]).toMatchObject({ state: 'UNHEALTHY', drift: ['llama'] });
  });

  test('publishes the first report at once, carrying identity, models and rule versions', () => {
    const { m, published } = monitor([]);
    m.start();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      replica: 'host-1',
      cluster: 'gpu-east',
      state: 'WARMING',
      models: [{ id: 'llama', version: '1', ready: true }],
      ruleVersions: { acme: 3 },
      seq: 1,
    });
    m.stop();
  });

  test('WARMING then READY after the warm-up; heartbeats when nothing changes', () => {
    const { m, clock, published } = monitor([]);
    m.start();
    clock.advance(1000);
    expect(published.at(-1)?.state).toBe('READY');
    const before = published.length;
    clock.advance(4900);
    expect(published.length).toBe(before);
    clock.advance(200);
    expect(published.length).toBe(before + 1);
    expect(published.at(-1)?.seq).toBe((published.at(-2)?.seq ?? 0) + 1);
    m.stop();
  });

  test('signals from collectors merge in order: a later collector wins a signal both give', () => {
    const scrape = new ScriptedCollector('metrics');
    const gpu = new ScriptedCollector('nvidia-smi');
    const { m, clock } = monitor([scrape, gpu]);
    m.start();
    const at = clock.now();
    scrape.sample({ signals: { queue: { value: 4, at }, gpu: { value: 0.1, at } } }, at);
    gpu.sample({ signals: { gpu: { value: 0.6, at } } }, at);
    expect(m.current()).toMatchObject({ queue: 4, gpu: 0.6 });
    expect(m.collectorAges().map((c) => c.collector)).toEqual(['metrics', 'nvidia-smi']);
    m.stop();
  });

  test('a readiness collector decides health; without one the configured models do', () => {
    const probe = new ScriptedCollector('readiness');
    const { m, clock } = monitor([probe]);
    m.start();
    probe.sample({ readiness: { healthy: false, ready: false } }, clock.now());
    expect(m.current()?.state).toBe('UNHEALTHY');
    probe.sample({ readiness: { healthy: true, ready: false } }, clock.now());
    expect(m.current()?.state).toBe('COLD');
    m.stop();
    const none = monitor([], {
      models: new StaticModelInventory([{ id: 'llama', version: '1', ready: false }]),
    });
    none.m.start();
    expect(none.m.current()?.state).toBe('COLD');
    none.m.stop();
  });

  test('no readiness probe and no model known: COLD, never READY at the best score', () => {
    // A host with no model server and no [[models]] can serve nothing: HAProxy (down) and ORCA
    // (full utilization) must not send it traffic. It reported READY with score 0 before.
    const { m } = monitor([], { models: new StaticModelInventory([]) });
    m.start();
    expect(m.current()?.state).toBe('COLD');
    m.stop();
  });

  test('a ready probe, but nothing routed here servable: COLD until something is', () => {
    const probe = new ScriptedCollector('readiness');
    let nothing = true;
    const { m, clock } = monitor([probe], { servesNothing: () => nothing });
    m.start();
    clock.advance(1100);
    probe.sample({ readiness: { healthy: true, ready: true } }, clock.now());
    expect(m.current()?.state).toBe('COLD');
    nothing = false;
    clock.advance(100);
    m.evaluate();
    expect(m.current()?.state).not.toBe('COLD');
    m.stop();
  });

  test('a full queue saturates at once and is published without waiting for the heartbeat', () => {
    const scrape = new ScriptedCollector('metrics');
    const { m, clock, published } = monitor([scrape]);
    m.start();
    clock.advance(1100);
    scrape.sample({ signals: { queue: { value: 100, at: clock.now() } } }, clock.now());
    expect(published.at(-1)).toMatchObject({ state: 'SATURATED', score: 1, queue: 100 });
    m.stop();
  });

  test('a signal that stops coming counts as saturated and is named stale', () => {
    const scrape = new ScriptedCollector('metrics');
    const { m, clock } = monitor([scrape]);
    m.start();
    scrape.sample({ signals: { queue: { value: 0, at: clock.now() } } }, clock.now());
    clock.advance(3000);
    expect(m.current()).toMatchObject({ state: 'SATURATED', stale: ['queue'] });
    m.stop();
  });

  test('pushed load wins over a scraped signal only while it is fresher', () => {
    const scrape = new ScriptedCollector('metrics');
    const { m, clock } = monitor([scrape]);
    m.start();
    scrape.sample({ signals: { queue: { value: 2, at: clock.now() } } }, clock.now());
    clock.advance(10);
    m.pushLoad({ queue: 7, running: 3 });
    expect(m.current()).toMatchObject({ queue: 7, running: 3 });
    clock.advance(10);
    scrape.sample({ signals: { queue: { value: 1, at: clock.now() } } }, clock.now());
    expect(m.current()).toMatchObject({ queue: 1, running: 3 });
    m.stop();
  });

  test('request and error rates ride in the report, scraped or pushed, and leave the score alone', () => {
    const scrape = new ScriptedCollector('metrics');
    const { m, clock } = monitor([scrape]);
    m.start();
    scrape.sample(
      {
        signals: {
          kvCache: { value: 0.2, at: clock.now() },
          requestRate: { value: 40, at: clock.now() },
          errorRate: { value: 1.5, at: clock.now() },
        },
      },
      clock.now(),
    );
    expect(m.current()).toMatchObject({ requestRate: 40, errorRate: 1.5, score: 0.2 });
    clock.advance(10);
    m.pushLoad({ requestRate: 900 });
    expect(m.current()).toMatchObject({ requestRate: 900, errorRate: 1.5, score: 0.2 });
    m.stop();
  });

  test('a hardware fault makes the replica UNHEALTHY, naming it; a throttle raises the score', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (l) => lines.push(JSON.parse(l)) });
    const smi = new ScriptedCollector('nvidia-smi');
    const { m, clock } = monitor([smi], { logger });
    m.start();
    const at = clock.now();
    smi.sample(
      {
        signals: { gpu: { value: 0.2, at }, throttled: { value: 0, at } },
        faults: ['GPU 0: 2 uncorrectable ECC errors since the driver loaded'],
      },
      at,
    );
    expect(m.current()).toMatchObject({
      state: 'UNHEALTHY',
      faults: ['GPU 0: 2 uncorrectable ECC errors since the driver loaded'],
    });
    clock.advance(10);
    smi.sample(
      {
        signals: {
          gpu: { value: 0.2, at: clock.now() },
          throttled: { value: 0.5, at: clock.now() },
        },
        slowdowns: ['GPU 0: hw_thermal_slowdown'],
      },
      clock.now(),
    );
    const report = m.current();
    expect(report?.state).not.toBe('UNHEALTHY');
    expect(report?.faults).toBeUndefined();
    expect(report?.throttled).toBe(0.5);
    m.stop();
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'hardware fault: the replica is UNHEALTHY',
        'hardware faults cleared',
        'GPU slowed down: its lost speed counts in the score',
      ]),
    );
  });

  test('an impossible value is warned about once when it starts, and noted when it stops', () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ write: (l) => lines.push(JSON.parse(l)) });
    const scrape = new ScriptedCollector('metrics');
    const { m, clock } = monitor([scrape], { logger });
    m.start();
    const bad = [{ signal: 'kvCache', value: 1.7, became: 1 }];
    for (let i = 0; i < 3; i++) scrape.corrected(bad, clock.now());
    scrape.corrected([{ signal: 'queue', value: Number.NaN, became: null }, ...bad], clock.now());
    scrape.corrected(undefined, clock.now());
    m.stop();
    expect(
      lines
        .filter((l) => String(l.msg).includes('model server'))
        .map((l) => [l.msg, l.signal, l.value, l.used]),
    ).toEqual([
      ['the model server reported an impossible value', 'kvCache', '1.7', 1],
      ['the model server reported an impossible value', 'queue', 'NaN', 'no signal'],
      ['the model server reports sane values again', 'kvCache', undefined, undefined],
      ['the model server reports sane values again', 'queue', undefined, undefined],
    ]);
  });

  test("the host's CPU and memory are reported only where the GPU's are unknown", () => {
    const host = new ScriptedCollector('host');
    const smi = new ScriptedCollector('nvidia-smi');
    const { m, clock } = monitor([host, smi]);
    m.start();
    const at = clock.now();
    host.sample({ signals: { hostCpu: { value: 0.3, at }, hostMemory: { value: 0.4, at } } }, at);
    expect(m.current()).toMatchObject({ hostCpu: 0.3, hostMemory: 0.4, score: 0 });
    smi.sample({ signals: { gpu: { value: 0.5, at }, gpuMemory: { value: 0.9, at } } }, at);
    const report = m.current();
    expect(report).toMatchObject({ gpu: 0.5, gpuMemory: 0.9 });
    expect(report?.hostCpu).toBeUndefined();
    expect(report?.hostMemory).toBeUndefined();
    m.stop();
  });

  test('stale rules and draining win over load, in that order of precedence', () => {
    const { m, setRules, drain } = monitor([]);
    m.start();
    setRules({ versions: { acme: 2 }, stale: true });
    expect(m.publishNow()).toMatchObject({ state: 'STALE_RULES', ruleVersions: { acme: 2 } });
    drain();
    expect(m.publishNow().state).toBe('DRAINING');
    m.stop();
  });

  test('the OFFLINE report (will, final message) keeps identity and takes the next sequence', () => {
    const { m, published } = monitor([]);
    m.start();
    const offline = m.offlineReport();
    expect(offline).toMatchObject({ state: 'OFFLINE', score: 1, replica: 'host-1' });
    expect(offline.seq).toBe((published.at(-1)?.seq ?? 0) + 1);
    m.stop();
  });

  test('collector failures are reported; an absent source stops its collector and is not', async () => {
    const flaky = new ScriptedCollector('metrics');
    const withFlaky = monitor([flaky]);
    withFlaky.m.start();
    flaky.fail('metrics: GET answered 500', 1);
    expect(withFlaky.updates).toEqual(['metrics:metrics: GET answered 500']);
    withFlaky.m.stop();

    const clock = new FakeClock();
    let calls = 0;
    const noSmi = new PeriodicCollector<number>({
      name: 'nvidia-smi',
      sample: async () => {
        calls++;
        throw new NoNvidiaSmiError('nvidia-smi is not installed');
      },
      intervalMs: 100,
      clock,
    });
    const absent = monitor([noSmi]);
    absent.m.start();
    await noSmi.sampleNow();
    clock.advance(1000);
    expect(noSmi.current.absent).toBe(true);
    expect(absent.updates).toEqual([]);
    expect(calls).toBeLessThanOrEqual(2);
    absent.m.stop();
  });
});
