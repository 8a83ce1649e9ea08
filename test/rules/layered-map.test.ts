import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { LayeredMap } from '../../src/rules/index.ts';

describe('LayeredMap', () => {
  test('after any sequence of changes it holds what a plain map would, in either layer', () => {
    const change = fc.record({
      removed: fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 30 }),
      added: fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.string()), { maxLength: 30 }),
    });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 40 }), (changes) => {
        const plain = new Map<number, string>(
          Array.from({ length: 300 }, (_, i) => [i, `v${i}`] as const),
        );
        let layered: ReadonlyMap<number, string> = new Map(plain);
        for (const { removed, added } of changes) {
          layered = LayeredMap.derive(layered, removed, added);
          for (const key of removed) plain.delete(key);
          for (const [key, value] of added) plain.set(key, value);
          expect(layered.size).toBe(plain.size);
        }
        expect(new Map(layered)).toEqual(plain);
        expect([...layered.keys()].sort()).toEqual([...plain.keys()].sort());
        expect([...layered.values()].sort()).toEqual([...plain.values()].sort());
        for (let key = 0; key <= 400; key++) {
          expect(layered.get(key)).toBe(plain.get(key));
          expect(layered.has(key)).toBe(plain.has(key));
        }
        const seen: number[] = [];
        layered.forEach((_, key) => {
          seen.push(key);
        });
        expect(seen.length).toBe(plain.size);
      }),
      { numRuns: 200 },
    );
  });

  test('keeps the flat order, a replaced key in its place, and flattens a layer grown large', () => {
    const flat = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const derived = LayeredMap.derive(
      flat,
      ['a'],
      [
        ['b', 20],
        ['d', 4],
      ],
    );
    expect([...derived]).toEqual([
      ['b', 20],
      ['c', 3],
      ['d', 4],
    ]);
    expect(derived).toBeInstanceOf(LayeredMap);
    const big = LayeredMap.derive(
      flat,
      [],
      Array.from({ length: 100 }, (_, i) => [`k${i}`, i] as const),
    );
    expect(big).toBeInstanceOf(Map);
    expect(big.size).toBe(103);
  });
});
