import { describe, expect, test } from 'bun:test';
import type { ConfigMessage } from '../../src/api/index.ts';
import { canServe } from '../../src/cli/status-command.ts';

const config = (objectives: number, unservable: number): ConfigMessage =>
  ({
    tenants: [
      {
        tenant: 'acme',
        serving: { objectives, unservable_objectives: unservable, unservable: [], summary: '' },
      },
    ],
  }) as unknown as ConfigMessage;
const report = (state: string) => ({ replica: 'h', state: `REPLICA_STATE_${state}`, score: 0 });

describe('filament status: can this host serve?', () => {
  test('SERVING, READY, and an objective it can serve: yes (exit 0)', () => {
    expect(canServe('SERVING', report('READY'), config(4, 3))).toEqual({ ok: true });
    expect(canServe('SERVING', report('SATURATED'), config(4, 0))).toEqual({ ok: true });
  });
  test('0 of 4 objectives servable: no, whatever the health says', () => {
    expect(canServe('SERVING', report('READY'), config(4, 4))).toEqual({
      ok: false,
      why: 'it can serve none of the 4 objective(s) routed here',
    });
  });
  test('a replica state load balancers send nothing to: no, naming it', () => {
    for (const state of ['COLD', 'UNHEALTHY', 'STALE_RULES', 'OFFLINE', 'DRAINING'])
      expect(canServe('SERVING', report(state), config(4, 0))).toEqual({
        ok: false,
        why: `the replica is ${state}: load balancers send it nothing`,
      });
    expect(canServe('NOT_SERVING', report('READY'), config(4, 0))).toMatchObject({ ok: false });
    expect(canServe('SERVING', null, config(4, 0))).toMatchObject({ ok: false });
  });
});
