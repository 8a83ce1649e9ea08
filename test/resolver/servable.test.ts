import { describe, expect, test } from 'bun:test';
import {
  decodeServableSet,
  encodeServableSet,
  type SaturationReport,
  type ServableSet,
} from '../../src/report/index.ts';
import { REFUSED_ENOUGH, Resolver } from '../../src/resolver/index.ts';

const NOW = Date.parse('2026-12-02T00:00:00Z');

function report(replica: string, inventory?: { seq: number; digest: string }): SaturationReport {
  return {
    replica,
    cluster: 'gpu-east',
    state: 'READY',
    score: 0.2,
    seq: 1,
    at: NOW,
    ...(inventory ? { inventory } : {}),
  };
}

function set(replica: string, digest: string, keys: string[], seq = 1): ServableSet {
  return {
    v: 1,
    replica,
    cluster: 'gpu-east',
    seq,
    digest,
    at: NOW,
    confirmed: true,
    tenants: [
      {
        tenant: 'acme',
        version: 7,
        keys,
        models: keys.map((k) => k.replace('acme.', '')),
        unservable: [],
      },
    ],
  };
}

function resolver() {
  const r = new Resolver({
    urls: ['mqtt://127.0.0.1:1'],
    clock: { now: () => NOW, setTimeout: () => ({ cancel() {} }) },
  });
  return r;
}

describe('Resolver.pickServing', () => {
  test('only replicas whose current set lists the key take part', () => {
    const r = resolver();
    r.table.update(report('r1', { seq: 1, digest: 'aaaaaaaaaaaaaaaa' }), NOW);
    r.table.update(report('r2', { seq: 3, digest: 'bbbbbbbbbbbbbbbb' }), NOW);
    r.servable.update(set('r1', 'aaaaaaaaaaaaaaaa', ['acme.llama']));
    r.servable.update(set('r2', 'bbbbbbbbbbbbbbbb', ['acme.llama', 'acme.support'], 3));
    for (let i = 0; i < 20; i++)
      expect(r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.support' })).toEqual({
        replica: 'r2',
      });
    expect(r.pickServing('gpu-east', { tenant: 'acme', model: 'support' })).toEqual({
      replica: 'r2',
    });
    const both = new Set<string | undefined>();
    for (let i = 0; i < 50; i++)
      both.add(r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' }).replica);
    expect([...both].sort()).toEqual(['r1', 'r2']);
  });

  test('serving lists the replicas that take part, whatever their load', () => {
    const r = resolver();
    r.table.update(report('r2', { seq: 1, digest: 'aaaaaaaaaaaaaaaa' }), NOW);
    r.table.update({ ...report('r1', { seq: 1, digest: 'bbbbbbbbbbbbbbbb' }), score: 0.9 }, NOW);
    r.table.update(report('legacy'), NOW);
    r.servable.update(set('r2', 'aaaaaaaaaaaaaaaa', ['acme.llama']));
    r.servable.update(set('r1', 'bbbbbbbbbbbbbbbb', ['acme.llama', 'acme.support']));
    expect(r.serving('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' })).toEqual([
      'legacy',
      'r1',
      'r2',
    ]);
    expect(r.serving('gpu-east', { tenant: 'acme', model: 'support' })).toEqual(['legacy', 'r1']);
    expect(r.serving('gpu-west', { tenant: 'acme', model: 'support' })).toEqual([]);
  });

  test('a host whose check keeps refusing a key (its report says so) is not sent that key', () => {
    const r = resolver();
    const refusing = (count: number): SaturationReport => ({
      ...report('r1'),
      refusals: [{ tenant: 'acme', routingKey: 'acme.llama', count }],
    });
    r.table.update(report('r2'), NOW);
    r.table.update(refusing(REFUSED_ENOUGH), NOW);
    expect(r.serving('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' })).toEqual(['r2']);
    // Other keys, other tenants and models still go there.
    expect(r.serving('gpu-east', { tenant: 'acme', routingKey: 'acme.qwen' })).toEqual([
      'r1',
      'r2',
    ]);
    expect(r.serving('gpu-east', { tenant: 'globex', routingKey: 'acme.llama' })).toEqual([
      'r1',
      'r2',
    ]);
    expect(r.serving('gpu-east', { tenant: 'acme', model: 'llama' })).toEqual(['r1', 'r2']);
    // A refusal or two is noise.
    r.table.update({ ...refusing(REFUSED_ENOUGH - 1), seq: 2 }, NOW);
    expect(r.serving('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' })).toEqual([
      'r1',
      'r2',
    ]);
  });

  test('none that can: a clear answer, not a random pick', () => {
    const r = resolver();
    r.table.update(report('r1', { seq: 1, digest: 'aaaaaaaaaaaaaaaa' }), NOW);
    r.servable.update(set('r1', 'aaaaaaaaaaaaaaaa', ['acme.llama']));
    expect(r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.support' })).toEqual({
      replica: undefined,
      reason:
        'no replica in cluster "gpu-east" serves routing key "acme.support" of tenant "acme" (1 live, 0 with a servable set not yet received)',
    });
    expect(
      r.pickServing('gpu-east', { tenant: 'globex', routingKey: 'acme.llama' }).replica,
    ).toBeUndefined();
    expect(r.pickServing('gpu-west', { tenant: 'acme', routingKey: 'acme.llama' })).toEqual({
      replica: undefined,
      reason: 'no live replica in cluster "gpu-west"',
    });
  });

  test('a copy older than the report names is not trusted; a host without sets is judged by state', () => {
    const r = resolver();
    r.table.update(report('r1', { seq: 2, digest: 'cccccccccccccccc' }), NOW);
    r.servable.update({ ...set('r1', 'aaaaaaaaaaaaaaaa', ['acme.llama']), at: NOW - 1000 });
    expect(
      r.servable.answer(r.replicas()[0] as never, { tenant: 'acme', routingKey: 'acme.llama' }),
    ).toBe('out-of-date');
    expect(
      r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' }).replica,
    ).toBeUndefined();
    r.table.update(report('legacy'), NOW);
    expect(r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' })).toEqual({
      replica: 'legacy',
    });
  });

  test('a set that arrives just before the report naming it is trusted at once', () => {
    const r = resolver();
    r.table.update({ ...report('r1', { seq: 3, digest: 'aaaaaaaaaaaaaaaa' }), at: NOW - 500 }, NOW);
    r.servable.update(set('r1', 'bbbbbbbbbbbbbbbb', [], 4));
    expect(
      r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.llama' }).replica,
    ).toBeUndefined();
    expect(
      r.servable.answer(r.replicas()[0] as never, { tenant: 'acme', routingKey: 'acme.llama' }),
    ).toBe('no');
  });

  test('among replicas that can, the usual choice by state still runs (a saturated one only if all are)', () => {
    const r = resolver();
    r.table.update(
      {
        ...report('busy', { seq: 1, digest: 'aaaaaaaaaaaaaaaa' }),
        state: 'SATURATED',
        score: 0.95,
      },
      NOW,
    );
    r.table.update(report('idle-but-lacks', { seq: 1, digest: 'bbbbbbbbbbbbbbbb' }), NOW);
    r.servable.update(set('busy', 'aaaaaaaaaaaaaaaa', ['acme.support']));
    r.servable.update(set('idle-but-lacks', 'bbbbbbbbbbbbbbbb', ['acme.llama']));
    expect(r.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.support' })).toEqual({
      replica: 'busy',
    });
  });
});

describe('the servable-set wire contract', () => {
  test('round-trips, and refuses what breaks its schema, naming it', () => {
    const s = set('r1', 'aaaaaaaaaaaaaaaa', ['acme.llama']);
    expect(decodeServableSet(encodeServableSet(s))).toEqual(s);
    const bad = new TextEncoder().encode(JSON.stringify({ ...s, digest: 'short' }));
    expect(decodeServableSet(bad)).toEqual({ error: expect.stringContaining('/digest') });
    expect(decodeServableSet(new TextEncoder().encode('{"v":1'))).toEqual({
      error: expect.stringContaining('MALFORMED'),
    });
  });
});
