import { describe, expect, test } from 'bun:test';
import { deltaBytes } from '../../src/cli/rules-delta.ts';
import { ruleSet } from '../helpers/rule-sets.ts';

describe('deltaBytes', () => {
  test('a delta must be smaller than the full set, for one tenant, to a newer version', () => {
    const from = ruleSet('acme', 1);
    const to = ruleSet('acme', 2);
    const { delta, bytes } = deltaBytes(from, to, 100_000);
    expect(delta.patch).toEqual([{ op: 'replace', path: '/version', value: 2 }]);
    expect(bytes.byteLength).toBeLessThan(300);
    expect(() => deltaBytes(from, to, bytes.byteLength)).toThrow(
      `the delta (${bytes.byteLength} bytes) is not smaller than the full set (${bytes.byteLength} bytes): publish the full set (without --delta-from)`,
    );
    expect(() => deltaBytes(from, ruleSet('globex', 2), 100_000)).toThrow(
      'the base is tenant "acme", the new set "globex"',
    );
  });
});
