import { describe, expect, test } from 'bun:test';
import { canServe } from '../../src/cli/status-command.ts';

const report = (state: string) => ({ replica: 'h', state: `REPLICA_STATE_${state}`, score: 0 });

describe('filament status: can this host serve?', () => {
  test('SERVING, READY, and an objective it can serve: yes (exit 0)', () => {
    expect(canServe('SERVING', report('READY'))).toEqual({ ok: true });
    expect(canServe('SERVING', report('SATURATED'))).toEqual({ ok: true });
  });
  test('nothing routed here servable: the replica is COLD, so no; some keys of each objective: yes', () => {
    expect(canServe('SERVING', report('COLD'))).toEqual({
      ok: false,
      why: 'the replica is COLD: load balancers send it nothing',
    });
    // Every objective has a target it cannot serve, but it serves some of their keys: READY.
    expect(canServe('SERVING', report('READY'))).toEqual({ ok: true });
  });
  test('a replica state load balancers send nothing to: no, naming it', () => {
    for (const state of ['COLD', 'UNHEALTHY', 'STALE_RULES', 'OFFLINE', 'DRAINING'])
      expect(canServe('SERVING', report(state))).toEqual({
        ok: false,
        why: `the replica is ${state}: load balancers send it nothing`,
      });
    expect(canServe('NOT_SERVING', report('READY'))).toMatchObject({ ok: false });
    expect(canServe('SERVING', null)).toMatchObject({ ok: false });
  });
});
