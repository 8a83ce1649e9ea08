import { describe, expect, test } from 'bun:test';
import { regressionOf } from '../../src/cli/publish-guard.ts';
import {
  describeCluster,
  isLive,
  newHostTakes,
  type ReportSeen,
  rolloutGate,
  rolloutView,
} from '../../src/cli/rollout-view.ts';
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
const READY: ReportSeen = { state: 'READY', at: NOW - 2_000 };
/** Each replica named (`cluster/replica`, or one of gpu-east) reported READY 2 s ago, but for `over`. */
const reportsFor = (names: string[], over: Record<string, ReportSeen> = {}) =>
  new Map<string, ReportSeen>([
    ...names.map((n): [string, ReportSeen] => [n.includes('/') ? n : `gpu-east/${n}`, READY]),
    ...Object.entries(over),
  ]);

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
      reports: reportsFor(['a', 'b', 'c', 'd', 'f', 'gpu-west/g'], {
        'gpu-east/e': { state: 'OFFLINE', at: NOW - 1_000 },
      }),
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
        reports: new Map(),
        now: NOW,
        cluster: 'x',
      }).fraction,
    ).toBe(1);
  });
});

describe('the rollout gate', () => {
  const gate = (view: ReturnType<typeof rolloutView>, maxNacks = 0, minFraction = 1) =>
    rolloutGate(view, { minFraction, maxNacks });

  test('a retained v1 over a fleet on v2: every replica is ahead, the gate fails and says why', () => {
    const view = rolloutView({
      tenant: 'acme',
      target: 1,
      acks: ['r1', 'r2', 'r3'].map((r) =>
        ack(r, {
          status: 'rejected',
          receivedVersion: 1,
          activeVersion: 2,
          code: 'VERSION_REGRESSION',
        }),
      ),
      reports: reportsFor(['r1', 'r2', 'r3']),
      now: NOW,
    });
    expect(view.rows.map((r) => r.standing)).toEqual(['ahead', 'ahead', 'ahead']);
    expect(view.fraction).toBe(0);
    expect(view.newerInUse).toEqual({ version: 2, replicas: 3 });
    const verdict = gate(view);
    expect(verdict.met).toBe(false);
    expect(verdict.problems).toEqual([
      'the retained v1 is older than v2, which 3 replica(s) run: they refuse it (VERSION_REGRESSION) and a new host would start on v1; publish a version above 2',
      '0.0 % on it, 100.0 % needed',
    ]);
    expect(describeCluster(view.clusters[0] ?? ({} as never), 1)).toBe(
      'gpu-east: 0/3 on v1, 3 on a newer version',
    );
  });

  test('a NACK of the target fails the gate even when the share is met, unless allowed', () => {
    const view = rolloutView({
      tenant: 'acme',
      target: 7,
      acks: [
        ...['a', 'b', 'c', 'd'].map((r) => ack(r, {})),
        ack('e', { status: 'rejected', activeVersion: 6, code: 'DANGLING_REFERENCE' }),
      ],
      reports: reportsFor(['a', 'b', 'c', 'd', 'e']),
      now: NOW,
    });
    expect(gate(view, 0, 0.8)).toEqual({
      met: false,
      problems: ['1 replica(s) refused v7 (DANGLING_REFERENCE ×1), 0 allowed'],
    });
    expect(gate(view, 1, 0.8)).toEqual({ met: true, problems: [] });
    expect(gate(view, 1, 1).problems).toEqual(['80.0 % on it, 100.0 % needed']);
  });

  test('only replicas with a live report count: stopped ones (OFFLINE, or their report expired) do not hold a rollout', () => {
    const view = rolloutView({
      tenant: 'acme',
      target: 7,
      acks: [
        ack('live', {}),
        ack('stopped', { activeVersion: 6, receivedVersion: 6 }),
        ack('expired', { activeVersion: 6, receivedVersion: 6 }),
        ack('stale', { activeVersion: 6, receivedVersion: 6 }),
      ],
      reports: reportsFor(['live'], {
        'gpu-east/stopped': { state: 'OFFLINE', at: NOW - 1_000 },
        // 'expired' has no report at all: MQTT 5 message expiry removed it.
        'gpu-east/stale': { state: 'READY', at: NOW - 61_000 },
      }),
      now: NOW,
    });
    expect(view.rows.map((r) => [r.replica, r.standing])).toEqual([
      ['expired', 'gone'],
      ['live', 'current'],
      ['stale', 'gone'],
      ['stopped', 'offline'],
    ]);
    expect(view.fraction).toBe(1);
    expect(gate(view).met).toBe(true);
    expect(describeCluster(view.clusters[0] ?? ({} as never), 7)).toBe(
      'gpu-east: 1/1 on v7, 1 offline (not counted), 2 without a live report (not counted)',
    );
    const nobody = rolloutView({
      ...view,
      acks: [ack('stopped', {})],
      reports: new Map(),
      now: NOW,
    });
    expect(gate(nobody).problems).toEqual([
      'no live replica follows tenant "acme" (1 ACKed it: stopped, or without a report in the last minute)',
    ]);
  });

  test('liveness: three heartbeats, at least a minute', () => {
    expect(isLive(undefined, NOW)).toBe(false);
    expect(isLive({ state: 'OFFLINE', at: NOW }, NOW)).toBe(false);
    expect(isLive({ state: 'COLD', at: NOW - 59_000 }, NOW)).toBe(true);
    expect(isLive({ state: 'COLD', at: NOW - 61_000 }, NOW)).toBe(false);
    expect(isLive({ state: 'READY', at: NOW - 80_000, heartbeatMs: 30_000 }, NOW)).toBe(true);
    expect(isLive({ state: 'READY', at: NOW - 91_000, heartbeatMs: 30_000 }, NOW)).toBe(false);
  });
});

describe('what a new host would take', () => {
  test('a full set, a delta it can apply, one it cannot, nothing', () => {
    expect(newHostTakes(null, null)).toEqual({
      version: null,
      how: 'nothing: no rule set is retained',
    });
    expect(newHostTakes({ version: 3 }, null)).toEqual({ version: 3, how: 'v3, the retained set' });
    expect(newHostTakes({ version: 7, deltaBase: 6 }, { version: 6 })).toEqual({
      version: 7,
      how: 'v6, the retained full set, then the delta to v7',
    });
    expect(newHostTakes({ version: 7, deltaBase: 5 }, { version: 6 })).toEqual({
      version: 6,
      how: 'v6, the retained full set (the delta to v7 needs v5)',
    });
    expect(newHostTakes({ version: 7, deltaBase: 6 }, null).version).toBeNull();
  });
});

describe('rules publish refuses to take a tenant backwards', () => {
  const topic = 'filament/v1/rules/acme';
  const fleet = ['a', 'b', 'c'].map((r) => ack(r, { activeVersion: 2, receivedVersion: 2 }));

  test('older than the replicas run, or than the retained set', () => {
    expect(regressionOf(1, topic, { version: 2 }, fleet)).toBe(
      'v1 is older than what the tenant has (v2 is retained on filament/v1/rules/acme; 3 of 3 replica(s) run v2): every replica would refuse it (VERSION_REGRESSION) and a host that starts later would take v1. Publish a version above 2, or add --force',
    );
    expect(regressionOf(1, topic, null, fleet)).toContain('(3 of 3 replica(s) run v2)');
    expect(regressionOf(4, topic, { version: 5 }, [])).toContain(
      '(v5 is retained on filament/v1/rules/acme)',
    );
  });

  test('below a retained set every replica refused (bad or tampered): allowed, that is the fix', () => {
    const refusing = ['a', 'b'].map((r) =>
      ack(r, { status: 'rejected', receivedVersion: 5, activeVersion: 2, code: 'SCHEMA' }),
    );
    expect(regressionOf(4, topic, { version: 5 }, refusing)).toBeNull();
    const unread = refusing.map((a) => ({ ...a, receivedVersion: null, code: 'SIGNATURE' }));
    expect(regressionOf(4, topic, { version: 5 }, unread)).toBeNull();
    // One replica applied it: it is the floor again.
    expect(
      regressionOf(4, topic, { version: 5 }, [...refusing, ack('c', { activeVersion: 5 })]),
    ).toContain('v5 is retained');
  });

  test('the same version again, or a newer one, is fine', () => {
    expect(regressionOf(2, topic, { version: 2 }, fleet)).toBeNull();
    expect(regressionOf(3, topic, { version: 2 }, fleet)).toBeNull();
    expect(regressionOf(1, topic, null, [])).toBeNull();
  });
});
