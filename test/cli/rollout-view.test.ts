import { describe, expect, test } from 'bun:test';
import { describeCluster, rolloutView } from '../../src/cli/rollout-view.ts';
import type { AckDocument } from '../../src/rule-stream/index.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const ack = (replica: string, over: Partial<AckDocument>): AckDocument => ({
  tenant: 'acme',
  replica,
  cluster: 'gpu-east',
  receivedVersion: 7,
  status: 'applied',
  activeVersion: 7,
  persisted: true,
  at: new Date(NOW - 5_000).toISOString(),
  ...over,
});

describe('rolloutView', () => {
  test('current, NACKed (also when its version could not be read), behind, offline', () => {
    const view = rolloutView({
      tenant: 'acme',
      target: 7,
      acks: [
        ack('a', {}),
        ack('b', { status: 'rejected', activeVersion: 6, code: 'DANGLING_REFERENCE', reason: 'x' }),
        ack('c', {
          status: 'rejected',
          receivedVersion: null,
          activeVersion: 6,
          code: 'TOO_LARGE',
        }),
        ack('d', {
          receivedVersion: 6,
          activeVersion: 6,
          at: new Date(NOW - 45_000).toISOString(),
        }),
        ack('e', { receivedVersion: 5, activeVersion: 5 }),
        ack('f', {
          serving: {
            objectives: 40,
            unservableObjectives: 2,
            unservable: [],
            summary: '2 of 40 …',
          },
        }),
        ack('g', { cluster: 'gpu-west' }),
        { ...ack('h', {}), tenant: 'globex' },
      ],
      states: new Map([['gpu-east/e', 'OFFLINE' as const]]),
      now: NOW,
    });
    expect(view.rows.map((r) => [r.replica, r.standing])).toEqual([
      ['a', 'current'],
      ['b', 'nacked'],
      ['c', 'nacked'],
      ['d', 'behind'],
      ['e', 'offline'],
      ['f', 'current'],
      ['g', 'current'],
    ]);
    expect(view.fraction).toBeCloseTo(3 / 6, 5);
    const east = view.clusters.find((c) => c.cluster === 'gpu-east');
    expect(east && describeCluster(east, 7)).toBe(
      'gpu-east: 2/5 on v7, 1 NACK DANGLING_REFERENCE, 1 NACK TOO_LARGE, 1 silent 45 s, 1 cannot serve every objective, 1 offline (not counted)',
    );
    expect(
      rolloutView({
        tenant: 'acme',
        target: 7,
        acks: [],
        states: new Map(),
        now: NOW,
        cluster: 'x',
      }).fraction,
    ).toBe(1);
  });
});
