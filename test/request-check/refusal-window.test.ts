import { describe, expect, test } from 'bun:test';
import {
  answerVerdict,
  type CheckAnswer,
  MAX_REFUSED_KEYS,
  RefusalWindow,
} from '../../src/request-check/index.ts';

const T = Date.parse('2026-12-08T00:00:00Z');
const elsewhere = (routingKey: string, tenant = 'acme'): CheckAnswer => ({
  ...answerVerdict({ ok: false, code: 'HOST_BEHIND', message: 'behind' }),
  tenant,
  routingKey,
});

describe('RefusalWindow', () => {
  test('counts "elsewhere" refusals by tenant and key over the last minute, most refused first', () => {
    const w = new RefusalWindow();
    for (let i = 0; i < 3; i++) w.record(elsewhere('acme.a'), T + i * 1000);
    for (let i = 0; i < 5; i++) w.record(elsewhere('acme.b'), T + i * 1000);
    w.record(elsewhere('acme.b', 'globex'), T);
    // Allowed and refused-for-its-own-fault requests are not "elsewhere".
    w.record(
      {
        ...answerVerdict({ ok: true, ruleVersion: 1, role: 'default', payload: 'none' }),
        tenant: 'acme',
        routingKey: 'acme.a',
      },
      T,
    );
    w.record(
      {
        ...answerVerdict({ ok: false, code: 'UNKNOWN_OBJECTIVE', message: 'x' }),
        tenant: 'acme',
        routingKey: 'acme.a',
      },
      T,
    );
    expect(w.top(T + 10_000)).toEqual([
      { tenant: 'acme', routingKey: 'acme.b', count: 5 },
      { tenant: 'acme', routingKey: 'acme.a', count: 3 },
      { tenant: 'globex', routingKey: 'acme.b', count: 1 },
    ]);
    // A minute later they are gone.
    expect(w.top(T + 70_000)).toEqual([]);
  });

  test('reports at most 16 keys', () => {
    const w = new RefusalWindow();
    for (let k = 0; k < 40; k++) for (let i = 0; i <= k; i++) w.record(elsewhere(`acme.k${k}`), T);
    const top = w.top(T);
    expect(top.length).toBe(MAX_REFUSED_KEYS);
    expect(top[0]).toEqual({ tenant: 'acme', routingKey: 'acme.k39', count: 40 });
  });
});
