/**
 * The OpenMetrics test suite's own parser cases (OpenObservability/OpenMetrics
 * `tests/testdata/parsers/<case>/metrics`), the files as stored there, read from disk as bytes:
 * every `bad_*` case must be refused, every other one read. (The same cases, as prometheus_client
 * writes them, are in openmetrics-conformance.test.ts; this runs the suite's files themselves.)
 */
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition } from '../../src/exposition/index.ts';

const DIR = join(import.meta.dir, '..', 'fixtures', 'openmetrics-suite');
const cases = readdirSync(DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function body(name: string): Uint8Array {
  const [file] = readdirSync(join(DIR, name)).filter((f) => f.startsWith('metrics'));
  return readFileSync(join(DIR, name, file as string));
}

const om = (bytes: Uint8Array) => parseExposition(bytes, { format: 'openmetrics' });

describe('OpenMetrics test suite files', () => {
  test('the fixture holds the 37 cases SOURCES.md lists', () => {
    expect(cases.length).toBe(37);
    expect(cases.filter((c) => !c.startsWith('bad_'))).toEqual([
      'escaping',
      'exemplars_wide_chars',
      'roundtrip',
      'simple_counter',
    ]);
  });

  for (const name of cases)
    test(name, () => {
      const result = om(body(name));
      if (name.startsWith('bad_')) {
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error.message.length).toBeGreaterThan(0);
      } else if (!result.ok)
        throw new Error(`refused: line ${result.error.line}: ${result.error.message}`);
    });

  test('what the valid ones read', () => {
    const read = (name: string) => {
      const result = om(body(name));
      if (!result.ok) throw new Error(result.error.message);
      return result.families;
    };
    const counter = read('simple_counter').get('a');
    expect(counter).toMatchObject({ type: 'counter', help: 'help' });
    expect(counter?.samples.map((s) => [s.name, s.value])).toEqual([['a_total', 1]]);
    const escaped = read('escaping').get('a');
    expect(escaped?.help).toBe('he\n\\l\\tp');
    expect(escaped?.samples.map((s) => s.labels.foo)).toEqual(['b"a\nr', 'b\\a\\z']);
    const roundtrip = read('roundtrip');
    expect(roundtrip.get('foo')?.samples.find((s) => s.name === 'foo_created')?.value).toBe(
      1.520430000123e9,
    );
    expect(roundtrip.get('go_gc_duration_seconds')?.type).toBe('summary');
    expect(
      roundtrip.get('prometheus_local_storage_chunk_ops')?.samples.map((s) => s.value),
    ).toEqual([28, 997844, 1345758, 1641, 981408, 32662, 980180, 32662]);
  });
});
