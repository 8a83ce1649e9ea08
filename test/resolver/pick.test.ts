import { describe, expect, test } from 'bun:test';
import type { ReplicaState, SaturationReport } from '../../src/report/index.ts';
import {
  pickReplica,
  type ReplicaEntry,
  ReplicaTable,
  Resolver,
} from '../../src/resolver/index.ts';

const entry = (replica: string, state: ReplicaState, score: number, at = 1): ReplicaEntry => ({
  report: { replica, cluster: 'c', state, score, seq: 1, at } as SaturationReport,
  receivedAt: at,
});

/** A deterministic random source cycling through the given values. */
const cycle = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('pickReplica', () => {
  test('of two random candidates, takes the less loaded', () => {
    const replicas = [entry('a', 'READY', 0.9), entry('b', 'READY', 0.1), entry('c', 'READY', 0.5)];
    expect(pickReplica(replicas, { random: cycle(0, 0) })?.report.replica).toBe('b');
    expect(pickReplica(replicas, { random: cycle(0.9, 0.9) })?.report.replica).toBe('b');
  });

  test('between equal scores, the one with fewer requests waiting and running', () => {
    const busy = {
      ...entry('busy', 'READY', 1),
      report: { ...entry('busy', 'READY', 1).report, queue: 9, running: 16 },
    };
    const calm = {
      ...entry('calm', 'READY', 1),
      report: { ...entry('calm', 'READY', 1).report, queue: 0, running: 3 },
    };
    for (const random of [cycle(0, 0), cycle(0.9, 0.9)])
      expect(pickReplica([busy, calm], { random })?.report.replica).toBe('calm');
  });

  test('never picks COLD, STALE_RULES, DRAINING, SATURATED, UNHEALTHY or OFFLINE while a READY one exists', () => {
    const replicas = ['COLD', 'STALE_RULES', 'DRAINING', 'SATURATED', 'UNHEALTHY', 'OFFLINE'].map(
      (s, i) => entry(`x${i}`, s as ReplicaState, 0),
    );
    replicas.push(entry('ok', 'READY', 0.99));
    for (let i = 0; i < 50; i++) expect(pickReplica(replicas)?.report.replica).toBe('ok');
  });

  test('gives a WARMING replica less traffic than an equally idle READY one (slow start)', () => {
    const replicas = [entry('warm', 'WARMING', 0), entry('ready', 'READY', 0.3)];
    expect(pickReplica(replicas, { random: cycle(0, 0), warmingWeight: 0.5 })?.report.replica).toBe(
      'ready',
    );
    expect(pickReplica(replicas, { random: cycle(0, 0), warmingWeight: 0.9 })?.report.replica).toBe(
      'warm',
    );
  });

  test('failing open spreads over the least bad state class instead of piling onto one replica', () => {
    const saturated = Array.from({ length: 8 }, (_, i) =>
      entry(`s${i}`, 'SATURATED', 0.9 + i * 0.01),
    );
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const name = pickReplica([...saturated, entry('cold', 'COLD', 0)])?.report.replica as string;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(counts.has('cold')).toBe(false);
    expect(counts.size).toBeGreaterThanOrEqual(6);
  });

  test('fails open to the least bad when everything is excluded, but never to OFFLINE', () => {
    expect(
      pickReplica([
        entry('cold', 'COLD', 0),
        entry('busy', 'SATURATED', 0.95),
        entry('busier', 'SATURATED', 0.99),
      ])?.report.replica,
    ).toBe('busy');
    expect(
      pickReplica([entry('stale', 'STALE_RULES', 0), entry('drain', 'DRAINING', 0)])?.report
        .replica,
    ).toBe('stale');
    expect(pickReplica([entry('gone', 'OFFLINE', 0)])).toBeUndefined();
    expect(pickReplica([])).toBeUndefined();
  });
});

describe('ReplicaTable', () => {
  test('ignores a report older than the one it holds', () => {
    const table = new ReplicaTable();
    expect(table.update(entry('a', 'READY', 0.1, 200).report, 200)).toBe(true);
    expect(table.update(entry('a', 'SATURATED', 1, 100).report, 300)).toBe(false);
    expect(table.replicas(300)[0]?.report.state).toBe('READY');
    // A last will carries its connection's (older) time, and still lands.
    expect(table.update(entry('a', 'OFFLINE', 1, 50).report, 400)).toBe(true);
    expect(table.replicas(400)[0]?.report.state).toBe('OFFLINE');
  });

  test('a report delivered twice (QoS 1 redelivery after a reconnect) changes nothing', () => {
    // A publish whose PUBACK was lost with the connection is sent again: the same seq twice.
    const table = new ReplicaTable();
    const report = entry('a', 'READY', 0.2, 200).report;
    table.update(report, 200);
    table.update({ ...report }, 250);
    expect(table.replicas(300)).toHaveLength(1);
    expect(table.replicas(300)[0]?.report).toEqual(report);
  });

  test('drops replicas silent for longer than the limit, and filters by cluster', () => {
    const table = new ReplicaTable(1000);
    table.update(entry('a', 'READY', 0.1, 0).report, 0);
    table.update({ ...entry('b', 'READY', 0.1, 500).report, cluster: 'other' }, 500);
    expect(
      table
        .replicas(900)
        .map((r) => r.report.replica)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(table.replicas(900, 'other').map((r) => r.report.replica)).toEqual(['b']);
    expect(table.replicas(1200).map((r) => r.report.replica)).toEqual(['b']);
  });
});

describe('Resolver without a broker', () => {
  test('maps a routingKey to its cluster through a rule set before picking', () => {
    const resolver = new Resolver({ urls: ['mqtt://127.0.0.1:1'] });
    const now = Date.now();
    resolver.table.update(
      { ...entry('east-1', 'READY', 0.2, now).report, cluster: 'gpu-east' },
      now,
    );
    resolver.table.update(
      { ...entry('west-1', 'READY', 0.1, now).report, cluster: 'gpu-west' },
      now,
    );
    const routingKeys = new Map([
      ['acme.chat', 'gpu-east'],
      ['acme.embed', 'gpu-west'],
    ]);
    expect(resolver.pickForRoutingKey('acme.chat', routingKeys)).toBe('east-1');
    expect(resolver.pickForRoutingKey('acme.embed', routingKeys)).toBe('west-1');
    expect(resolver.pickForRoutingKey('acme.unknown', routingKeys)).toBeUndefined();
    expect(resolver.pick('gpu-north')).toBeUndefined();
  });
});
