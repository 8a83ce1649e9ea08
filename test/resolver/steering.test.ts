import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/log/index.ts';
import type { SaturationReport } from '../../src/report/index.ts';
import {
  CircuitBreaker,
  DEFAULT_STALE_AFTER_MS,
  InFlightLedger,
  type ReplicaEntry,
  Resolver,
  viewReplicas,
} from '../../src/resolver/index.ts';

const T0 = Date.parse('2026-12-02T00:00:00Z');

function report(replica: string, over: Partial<SaturationReport> = {}): SaturationReport {
  return {
    replica,
    cluster: 'gpu-east',
    state: 'READY',
    score: 0.2,
    seq: 1,
    at: T0,
    capacity: 10,
    ...over,
  };
}

describe('InFlightLedger and the combined score', () => {
  test("the report and the resolver's own count both survive (the ai-dynamo#7753 shape)", () => {
    // Dynamo's router and worker wrote one load field and the last writer won, so the router's
    // increments vanished at every worker update. Here they are kept apart and combined.
    const ledger = new InFlightLedger();
    const key = 'gpu-east/r1';
    const before = ledger.start(key, T0 - 50); // sent before the report: in its numbers already
    ledger.start(key, T0 + 10);
    ledger.start(key, T0 + 20);
    ledger.start(key, T0 + 30);
    const view = (r: SaturationReport, receivedAt: number) =>
      viewReplicas([{ report: r, receivedAt }], ledger, () => undefined, receivedAt, {
        staleAfterMs: 10_000,
        stalePolicy: 'saturated',
      })[0];
    const first = view(report('r1', { at: T0, score: 0.5, running: 1 }), T0 + 40);
    expect(first).toMatchObject({ inFlight: 4, sinceReport: 3, reported: { score: 0.5 } });
    expect(first?.score).toBeCloseTo(0.8, 9); // 0.5 + 3 / capacity 10
    expect(first?.entry.report.running).toBe(4); // the 1 it reported and the 3 sent since
    // A newer report (made at T0 + 25) replaces only the reported part: the request sent after it
    // still counts, and the ones it has seen are not counted twice.
    const second = view(report('r1', { at: T0 + 25, score: 0.7, seq: 2 }), T0 + 60);
    expect(second).toMatchObject({ inFlight: 4, sinceReport: 1, reported: { seq: 2 } });
    expect(second?.score).toBeCloseTo(0.8, 9);
    // One it had seen finishes: the host's load has fallen since its report, and so does the score.
    ledger.finish(key, before, true, T0 + 70);
    ledger.finish(key, before, true, T0 + 75); // idempotent
    expect(ledger.inFlight(key)).toBe(3);
    const third = view(report('r1', { at: T0 + 25, score: 0.7, seq: 2 }), T0 + 80);
    expect(third?.sinceReport).toBe(0);
    expect(third?.score).toBeCloseTo(0.7, 9);
  });

  test('a steady stream is not counted twice when reports are sparser than requests are long', () => {
    // Requests of 100 ms, one every 50 ms, and a report every 5 s: whatever is in flight now was
    // sent after the report, but as many finished since — the host's load has not changed.
    const ledger = new InFlightLedger();
    const key = 'gpu-east/r1';
    const open: number[] = [];
    let t = T0 - 1000;
    for (; t < T0 + 3000; t += 50) {
      open.push(ledger.start(key, t));
      if (open.length > 2) ledger.finish(key, open.shift() as number, true, t);
    }
    const [v] = viewReplicas(
      [{ report: report('r1', { at: T0, score: 0.3 }), receivedAt: T0 }],
      ledger,
      () => undefined,
      t,
      { staleAfterMs: 10_000, stalePolicy: 'saturated' },
    );
    expect(v?.inFlight).toBe(2);
    expect(v?.sinceReport).toBe(0);
    expect(v?.score).toBeCloseTo(0.3, 9);
  });

  test('a host clock running ahead cannot hide requests: the earlier of report time and arrival', () => {
    const ledger = new InFlightLedger();
    ledger.start('gpu-east/r1', T0 + 100);
    const [v] = viewReplicas(
      [{ report: report('r1', { at: T0 + 5_000 }), receivedAt: T0 + 200 }],
      ledger,
      () => undefined,
      T0 + 200,
      { staleAfterMs: 10_000, stalePolicy: 'saturated' },
    );
    expect(v?.sinceReport).toBe(0); // sent before the report arrived: it could have counted it
    const [w] = viewReplicas(
      [{ report: report('r1', { at: T0 + 5_000 }), receivedAt: T0 + 50 }],
      ledger,
      () => undefined,
      T0 + 200,
      { staleAfterMs: 10_000, stalePolicy: 'saturated' },
    );
    // Sent after the report arrived: not in it, although the host's clock (5 s ahead) says the
    // report is newer — going by report.at alone would have hidden it.
    expect(w?.sinceReport).toBe(1);
  });
});

describe('CircuitBreaker', () => {
  const fixed = (x: number) => () => x;

  test('opens after consecutive failures, probes once when half-open, closes on success', () => {
    const b = new CircuitBreaker({ failures: 3, baseMs: 1000, jitter: 0, random: fixed(0.5) });
    let now = T0;
    b.ended(false, now);
    b.ended(false, now);
    b.ended(true, now); // a success in between resets the count
    b.ended(false, now);
    b.ended(false, now);
    expect(b.state(now)).toBe('closed');
    b.ended(false, now);
    expect(b.state(now)).toBe('open');
    expect(b.allows(now)).toBe(false);
    now += 999;
    expect(b.allows(now)).toBe(false);
    now += 1;
    expect(b.state(now)).toBe('half-open');
    expect(b.allows(now)).toBe(true);
    b.sent(now);
    expect(b.allows(now)).toBe(false); // one probe at a time
    b.ended(true, now + 5);
    expect(b.state(now + 5)).toBe('closed');
    expect(b.allows(now + 5)).toBe(true);
  });

  test('a failed probe opens it again for twice as long, up to the maximum', () => {
    const b = new CircuitBreaker({
      failures: 1,
      baseMs: 1000,
      maxMs: 3000,
      jitter: 0,
      random: fixed(0.5),
    });
    let now = T0;
    b.ended(false, now);
    const periods: number[] = [];
    for (let i = 0; i < 4; i++) {
      periods.push(b.remainingMs(now));
      now += b.remainingMs(now);
      b.sent(now);
      b.ended(false, now);
    }
    expect(periods).toEqual([1000, 2000, 3000, 3000]);
  });

  test('after a failure one request at a time goes, until one succeeds', () => {
    const b = new CircuitBreaker({ failures: 3, jitter: 0 });
    b.sent(T0);
    b.sent(T0);
    expect(b.allows(T0)).toBe(true); // no failure yet: as many as wanted
    b.ended(false, T0 + 5, T0);
    expect(b.allows(T0 + 5)).toBe(false); // one still out: wait for it
    b.ended(true, T0 + 10, T0 + 1);
    expect(b.allows(T0 + 10)).toBe(true); // sent after the failure, succeeded: all clear
    b.sent(T0 + 10);
    b.sent(T0 + 10);
    expect(b.allows(T0 + 10)).toBe(true);
  });

  test('a success of a request sent before the latest failure does not reset the count', () => {
    const b = new CircuitBreaker({ failures: 2, baseMs: 1000, jitter: 0 });
    b.sent(T0); // sent while the replica was fine, finishes fine later
    b.sent(T0 + 10);
    b.ended(false, T0 + 15, T0 + 10);
    b.ended(true, T0 + 100, T0); // older than the failure: says nothing about the replica now
    b.sent(T0 + 101);
    b.ended(false, T0 + 105, T0 + 101);
    expect(b.state(T0 + 105)).toBe('open');
  });

  test('the open period is spread by the jitter', () => {
    const low = new CircuitBreaker({ failures: 1, baseMs: 1000, jitter: 0.2, random: fixed(0) });
    const high = new CircuitBreaker({
      failures: 1,
      baseMs: 1000,
      jitter: 0.2,
      random: fixed(0.999),
    });
    low.ended(false, T0);
    high.ended(false, T0);
    expect(low.remainingMs(T0)).toBeCloseTo(800, 6);
    expect(high.remainingMs(T0)).toBeCloseTo(1199.6, 2);
  });

  test('results of requests sent before it opened do not close it early', () => {
    const b = new CircuitBreaker({ failures: 1, baseMs: 1000, jitter: 0 });
    b.ended(false, T0);
    b.ended(true, T0 + 10); // a straggler succeeding while open
    expect(b.state(T0 + 10)).toBe('open');
  });
});

describe('Resolver: accounting, fencing and staleness', () => {
  function resolver(
    over: ConstructorParameters<typeof Resolver>[0] extends infer O ? Partial<O> : never = {},
  ) {
    let now = T0;
    const lines: Array<Record<string, unknown>> = [];
    const r = new Resolver({
      urls: ['mqtt://127.0.0.1:1'],
      clock: { now: () => now, setTimeout: () => ({ cancel() {} }) },
      logger: createLogger({ write: (l) => lines.push(JSON.parse(l)) }),
      pick: { random: () => 0.3 },
      ...over,
    });
    return { r, lines, advance: (ms: number) => (now += ms), now: () => now };
  }
  const entry = (r: Resolver, rep: SaturationReport, at = T0) => r.table.update(rep, at);

  test('requests sent between reports steer the next picks away from the busy replica', () => {
    const { r } = resolver();
    entry(r, report('r1', { score: 0.1 }));
    entry(r, report('r2', { score: 0.2 }));
    // Without accounting every pick would go to r1 (lower score) until its next report.
    const picks: string[] = [];
    for (let i = 0; i < 6; i++) picks.push((r.acquire('gpu-east') as { replica: string }).replica);
    // Each request adds 1/capacity (0.1); at equal scores the one with fewer requests wins.
    expect(picks).toEqual(['r1', 'r2', 'r1', 'r2', 'r1', 'r2']);
    const rows = r.snapshot().map((v) => [v.replica, v.inFlight, v.sinceReport, v.score]);
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['r1', 3, 3],
      ['r2', 3, 3],
    ]);
    expect(rows[0]?.[3] as number).toBeCloseTo(0.4, 9);
    expect(rows[1]?.[3] as number).toBeCloseTo(0.5, 9);
  });

  test('one failed request already steers away: its error ratio counts in the score', () => {
    const { r, advance } = resolver({ circuitBreaker: false });
    entry(r, report('flaky', { score: 0 }));
    entry(r, report('steady', { score: 0.5 }));
    const first = r.acquire('gpu-east') as { replica: string; release(o?: string): void };
    expect(first.replica).toBe('flaky');
    first.release('error');
    expect(r.snapshot().find((v) => v.replica === 'flaky')).toMatchObject({
      errorRatio: 1,
      score: 1,
    });
    for (let i = 0; i < 5; i++) expect(r.pick('gpu-east')).toBe('steady');
    advance(10_001); // the failure is older than the 10 s window
    expect(r.pick('gpu-east')).toBe('flaky');
  });

  test('a replica whose requests fail is fenced whatever it reports, and probed again later', () => {
    const { r, advance } = resolver({ circuitBreaker: { failures: 2, baseMs: 1000, jitter: 0 } });
    entry(r, report('dead', { score: 0 }));
    for (let i = 0; i < 2; i++)
      (r.acquire('gpu-east') as { release(o: string): void }).release('error');
    entry(r, report('alive', { score: 0.5 }));
    expect(r.snapshot().find((v) => v.replica === 'dead')).toMatchObject({
      circuit: 'open',
      eligible: false,
      reported: { state: 'READY' },
    });
    for (let i = 0; i < 5; i++) expect(r.pick('gpu-east')).toBe('alive');
    // Half-open after 1 s, but its recent failures keep it last in line until they age out.
    advance(1000);
    expect(r.snapshot().find((v) => v.replica === 'dead')?.circuit).toBe('half-open');
    expect(r.pick('gpu-east')).toBe('alive');
    advance(9001);
    const probe = r.acquire('gpu-east') as { replica: string; release(o?: string): void };
    expect(probe.replica).toBe('dead'); // the one probe
    expect(r.pick('gpu-east')).toBe('alive'); // the probe is out: nothing else goes there
    probe.release('ok');
    expect(r.snapshot().find((v) => v.replica === 'dead')?.circuit).toBe('closed');
  });

  test('stale reports: saturated (default), ignore, or drop', () => {
    for (const [policy, expected] of [
      ['saturated', ['fresh', 'fresh', 'fresh']],
      ['ignore', ['old', 'old', 'old']],
      ['drop', ['fresh', 'fresh', 'fresh']],
    ] as const) {
      const { r, advance } = resolver({ stalePolicy: policy, staleAfterMs: 3000 });
      entry(r, report('old', { score: 0 }), T0);
      advance(3500);
      entry(r, report('fresh', { score: 0.6, at: T0 + 3500 }), T0 + 3500);
      const picks = [0, 1, 2].map(() => r.pick('gpu-east'));
      expect(picks).toEqual([...expected]);
      const old = r.snapshot().find((v) => v.replica === 'old');
      expect(old?.stale).toBe(true);
      expect(old?.eligible).toBe(policy !== 'drop');
      expect(old?.state).toBe(policy === 'saturated' ? 'SATURATED' : 'READY');
    }
    // With everything stale, saturated still fails open to them; drop has nothing to pick.
    const saturated = resolver({ staleAfterMs: 1000 });
    entry(saturated.r, report('only'));
    saturated.advance(2000);
    expect(saturated.r.pick('gpu-east')).toBe('only');
    const dropped = resolver({ staleAfterMs: 1000, stalePolicy: 'drop' });
    entry(dropped.r, report('only'));
    dropped.advance(2000);
    expect(dropped.r.pick('gpu-east')).toBeUndefined();
  });

  test('warns once about a replica whose heartbeat is not shorter than the staleness limit', () => {
    const { r, lines } = resolver({ staleAfterMs: 10_000 });
    expect(DEFAULT_STALE_AFTER_MS).toBe(11_000);
    entry(r, report('fine', { heartbeatMs: 5000 }));
    entry(r, report('slow', { heartbeatMs: 15_000 }));
    for (let i = 0; i < 3; i++) r.pick('gpu-east');
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      replica: 'slow',
      heartbeatMs: 15_000,
      staleAfterMs: 10_000,
    });
  });

  test('release is idempotent, and acquire honours what hosts can serve', () => {
    const { r } = resolver({ circuitBreaker: false });
    entry(r, report('r1'));
    const lease = r.acquire('gpu-east') as { release(): void };
    lease.release();
    lease.release();
    expect(r.snapshot()[0]?.inFlight).toBe(0);
    expect(r.acquire('gpu-west')).toBeUndefined();
    const e = r.table.replicas(T0)[0] as ReplicaEntry;
    expect(e.report.replica).toBe('r1');
  });
});
