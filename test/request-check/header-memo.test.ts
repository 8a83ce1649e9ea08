import { describe, expect, test } from 'bun:test';
import { readObjectiveHeader, writeObjectiveHeader } from '../../src/request-carrier/index.ts';
import { memoizedHeaderReader } from '../../src/request-check/index.ts';
import { acmeObjective } from '../helpers/checked-host.ts';

describe('memoizedHeaderReader', () => {
  const good = writeObjectiveHeader(acmeObjective());
  const other = writeObjectiveHeader(acmeObjective({ model: 'llama-70b' }));

  test('answers as the plain reader does, for readable and refused values alike', () => {
    const read = memoizedHeaderReader();
    const values = [
      good,
      other,
      good,
      ` ${good} `,
      'v2.abc',
      'v1.!!',
      `${good},${good}`,
      '',
      undefined,
      [good],
      [good, good],
      [],
    ];
    for (const value of values) expect(read(value)).toEqual(readObjectiveHeader(value));
  });

  test('decodes a value once: the second read is the same frozen object', () => {
    const read = memoizedHeaderReader();
    const first = read(good);
    const second = read(good);
    expect(second).toBe(first);
    expect(first.ok && Object.isFrozen(first.value)).toBe(true);
    expect(() => {
      (first as { value: { model: string } }).value.model = 'changed';
    }).toThrow();
  });

  test('a refusal is not kept; the oldest value is forgotten when full', () => {
    const read = memoizedHeaderReader(2);
    expect(read('v1.!!')).not.toBe(read('v1.!!'));
    const a = read(good);
    read(other);
    expect(read(good)).toBe(a);
    read(writeObjectiveHeader(acmeObjective({ model: 'third' })));
    expect(read(good)).not.toBe(a);
    expect(read(good)).toEqual(a);
  });
});
