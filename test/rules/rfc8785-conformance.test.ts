/**
 * RFC 8785 (JSON Canonicalization Scheme) conformance of what rule-set digests are made of: the
 * `canonicalize` library filament hashes with (src/rules/rule-digest.ts), against the RFC's
 * reference test data (cyberphone/json-canonicalization `testdata/`: each input file's canonical
 * form) and the number serialization samples of its Appendix B (test/fixtures/rfc8785/).
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';

const DIR = join(import.meta.dir, '..', 'fixtures', 'rfc8785');
const read = (path: string) => readFileSync(join(DIR, path), 'utf8');

/** The IEEE-754 double whose bits are `hex` (16 hex digits). */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 test data: each input canonicalizes to its output, byte for byte', () => {
  const names = readdirSync(join(DIR, 'input')).sort();
  test('the fixture holds the six files with an output', () => {
    expect(names).toEqual([
      'french.json',
      'simpleString.json',
      'structures.json',
      'unicode.json',
      'values.json',
      'weird.json',
    ]);
  });
  for (const name of names)
    test(name, () => {
      expect(canonicalize(JSON.parse(read(`input/${name}`)))).toBe(read(`output/${name}`));
    });
});

describe('RFC 8785 Appendix B: number serialization samples', () => {
  const rows = read('appendix-b.csv')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  test('26 samples', () => expect(rows.length).toBe(26));
  for (const [hex = '', expected = '', comment = ''] of rows)
    test(`${hex} → ${expected}${comment ? ` (${comment})` : ''}`, () => {
      const value = double(hex);
      if (expected === 'NaN' || expected === 'Infinity')
        // RFC 8785 §3.2.2.3: must be an error (filament's decoders refuse such numbers earlier).
        expect(() => canonicalize(value)).toThrow(`${expected} is not allowed`);
      else expect(canonicalize(value)).toBe(expected);
    });
});
