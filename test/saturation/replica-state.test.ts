import { describe, expect, test } from 'bun:test';
import type { ReplicaState, SignalName } from '../../src/report/index.ts';
import {
  checkThresholds,
  DEFAULT_THRESHOLDS,
  ReplicaStateMachine,
  rawScore,
  type Signals,
  type StateInputs,
  smooth,
} from '../../src/saturation/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const t = { ...DEFAULT_THRESHOLDS, maxQueue: 10, maxConcurrency: 100, staleAfterMs: 1000 };

describe('rawScore', () => {
  const now = 1_000_000;
  const at = now - 10;
  const cases: Array<[string, Signals, number, SignalName[]]> = [
    ['no signals at all', {}, 0, []],
    [
      'the largest normalised signal wins',
      { queue: { value: 2, at }, running: { value: 50, at }, kvCache: { value: 0.3, at } },
      0.5,
      [],
    ],
    [
      'a full KV cache saturates however idle the rest',
      { queue: { value: 0, at }, kvCache: { value: 0.97, at } },
      0.97,
      [],
    ],
    ['values above full are clamped', { queue: { value: 500, at } }, 1, []],
    ['a non-finite reading counts as full', { gpu: { value: Number.NaN, at } }, 1, []],
    ['an idle GPU at half speed is half full', { throttled: { value: 0.5, at } }, 0.5, []],
    [
      'a throttled GPU takes its share of what is left: 1 − (1 − 0.4)·(1 − 0.5)',
      { kvCache: { value: 0.4, at }, throttled: { value: 0.5, at } },
      0.7,
      [],
    ],
    [
      'a stale throttle reading counts for nothing (its GPU signal is what goes stale)',
      { kvCache: { value: 0.4, at }, throttled: { value: 0.5, at: now - 5000 } },
      0.4,
      [],
    ],
    [
      'rates and host readings are not part of the score',
      {
        kvCache: { value: 0.2, at },
        requestRate: { value: 900, at },
        hostCpu: { value: 1, at },
        gpuMemory: { value: 0.95, at },
      },
      0.2,
      [],
    ],
    [
      'a stale signal counts as full and is flagged',
      { queue: { value: 0, at: now - 5000 }, kvCache: { value: 0.1, at } },
      1,
      ['queue'],
    ],
  ];
  for (const [name, signals, score, stale] of cases) {
    test(name, () => {
      const result = rawScore(signals, t, now);
      expect(result.score).toBeCloseTo(score, 9);
      expect(result.stale).toEqual(stale);
    });
  }

  test('latency counts against its target only when one is set', () => {
    const signals: Signals = { queue: { value: 1, at }, latency: { value: 450, at } };
    expect(rawScore(signals, t, now).score).toBeCloseTo(0.1, 9);
    const withTarget = rawScore(signals, { ...t, latencyTargetMs: 300 }, now);
    expect(withTarget.score).toBe(1);
    expect(withTarget.components.latency).toBe(1);
    expect(
      rawScore({ latency: { value: 150, at } }, { ...t, latencyTargetMs: 300 }, now).score,
    ).toBeCloseTo(0.5, 9);
  });

  test('smooth moves a fraction of the way and passes the first value through', () => {
    expect(smooth(null, 0.8, 0.5)).toBe(0.8);
    expect(smooth(0.2, 1, 0.5)).toBeCloseTo(0.6, 9);
  });

  test('thresholds are checked', () => {
    expect(() => checkThresholds({ ...t, saturatedLeave: 0.9 })).toThrow('saturatedLeave');
    expect(() => checkThresholds({ ...t, smoothing: 0 })).toThrow('smoothing');
  });
});

describe('ReplicaStateMachine', () => {
  const setup = () => {
    const clock = new FakeClock();
    const machine = new ReplicaStateMachine(clock, { ...t, warmupMs: 5000, smoothing: 1 });
    const inputs = (over: Partial<StateInputs> = {}, queue?: number): StateInputs => ({
      healthy: true,
      ready: true,
      rulesStale: false,
      draining: false,
      signals: queue === undefined ? {} : { queue: { value: queue, at: clock.now() } },
      ...over,
    });
    return { clock, machine, inputs };
  };

  test('goes COLD → WARMING → READY as the model loads and warms up', () => {
    const { clock, machine, inputs } = setup();
    const seen: ReplicaState[] = [];
    seen.push(machine.update(inputs({ ready: false })).state);
    clock.advance(1000);
    seen.push(machine.update(inputs()).state);
    clock.advance(4000);
    seen.push(machine.update(inputs()).state);
    clock.advance(1001);
    seen.push(machine.update(inputs()).state);
    expect(seen).toEqual(['COLD', 'WARMING', 'WARMING', 'READY']);
  });

  test('with warmupRequests, stays WARMING until that many requests finished after becoming ready', () => {
    const clock = new FakeClock();
    const machine = new ReplicaStateMachine(clock, { ...t, warmupMs: 0, warmupRequests: 3 });
    const base = { healthy: true, rulesStale: false, draining: false, signals: {} };
    expect(machine.update({ ...base, ready: false, completed: 7 }).state).toBe('COLD');
    const states = [10, 12, 13].map(
      (completed) => machine.update({ ...base, ready: true, completed }).state,
    );
    expect(states).toEqual(['WARMING', 'WARMING', 'READY']);
    const unknown = new ReplicaStateMachine(clock, { ...t, warmupMs: 0, warmupRequests: 3 });
    expect(unknown.update({ ...base, ready: true }).state).toBe('READY');
  });

  test('setThresholds (a reload) rescales the same load and refuses inconsistent values', () => {
    const { clock, machine, inputs } = setup();
    clock.advance(6000);
    machine.update(inputs({}, 0));
    clock.advance(6000);
    expect(machine.update(inputs({}, 5)).state).toBe('READY');
    machine.setThresholds({ ...t, warmupMs: 5000, smoothing: 1, maxQueue: 5 });
    expect(machine.update(inputs({}, 5)).state).toBe('SATURATED');
    expect(() => machine.setThresholds({ ...t, smoothing: 0 })).toThrow('smoothing');
    expect(machine.update(inputs({}, 5)).state).toBe('SATURATED');
  });

  test('enters SATURATED at the enter threshold and leaves only below the leave threshold', () => {
    const { clock, machine, inputs } = setup();
    clock.advance(0);
    const states = [0, 9, 8, 7.5, 8, 6.9, 8.4].map((queue) => {
      clock.advance(6000);
      return machine.update(inputs({}, queue)).state;
    });
    // 0.9 ≥ 0.85 enters; 0.8 and 0.75 stay (≥ 0.7); 0.69 leaves; 0.84 does not re-enter.
    expect(states).toEqual([
      'WARMING',
      'SATURATED',
      'SATURATED',
      'SATURATED',
      'SATURATED',
      'READY',
      'READY',
    ]);
  });

  test('smoothing keeps one spike from flipping the state', () => {
    const clock = new FakeClock();
    const machine = new ReplicaStateMachine(clock, { ...t, warmupMs: 0, smoothing: 0.3 });
    const at = () => clock.now();
    const states = [0.1, 0.1, 1, 0.1, 0.1].map((kv) => {
      clock.advance(100);
      return machine.update({
        healthy: true,
        ready: true,
        rulesStale: false,
        draining: false,
        signals: { kvCache: { value: kv, at: at() } },
      }).state;
    });
    expect(states).not.toContain('SATURATED');
  });

  test('stale metrics count as saturated', () => {
    const { clock, machine, inputs } = setup();
    const signals = { queue: { value: 1, at: clock.now() } };
    expect(machine.update(inputs({ signals })).state).toBe('WARMING');
    clock.advance(6000);
    const stale = machine.update(inputs({ signals }));
    expect(stale.state).toBe('SATURATED');
    expect(stale.raw.stale).toEqual(['queue']);
  });

  test('precedence: DRAINING over UNHEALTHY over COLD over STALE_RULES over SATURATED', () => {
    const { machine, inputs } = setup();
    expect(machine.update(inputs({ draining: true, healthy: false }, 10)).state).toBe('DRAINING');
    expect(machine.update(inputs({ healthy: false, ready: false }, 10)).state).toBe('UNHEALTHY');
    expect(machine.update(inputs({ ready: false, rulesStale: true }, 10)).state).toBe('COLD');
    expect(machine.update(inputs({ rulesStale: true }, 10)).state).toBe('STALE_RULES');
    expect(machine.update(inputs({}, 10)).state).toBe('SATURATED');
  });

  test('reports whether the state changed', () => {
    const { machine, inputs } = setup();
    expect(machine.update(inputs()).changed).toBe(true);
    expect(machine.update(inputs()).changed).toBe(false);
    expect(machine.update(inputs({ draining: true })).changed).toBe(true);
  });
});
