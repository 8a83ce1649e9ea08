import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition } from '../../src/exposition/index.ts';
import { stringCopies } from '../helpers/string-copies.ts';

const dir = join(import.meta.dir, '..', 'fixtures', 'metrics');
const captures = readdirSync(dir).filter((f) => f.endsWith('.prom'));

describe('reading only the families asked for', () => {
  for (const file of captures)
    test(`gives exactly those families as a full read does: ${file}`, () => {
      const text = readFileSync(join(dir, file), 'utf8');
      const all = parseExposition(text);
      if (!all.ok) throw new Error(all.error.message);
      const some = [...all.families.keys()].filter((_, i) => i % 3 === 0);
      const part = parseExposition(text, { families: some });
      if (!part.ok) throw new Error(part.error.message);
      // Each family asked for, and families named after one with a sample suffix (text 0.0.4
      // writes `x_created` as a family of its own), each as the full read has it.
      const asked = new Set(some);
      for (const name of some) expect(part.families.has(name)).toBe(true);
      for (const [name, family] of part.families) {
        const base = name.replace(/_(total|created|sum|count|bucket|gsum|gcount|info)$/, '');
        expect(asked.has(name) || asked.has(base)).toBe(true);
        expect(family).toEqual(all.families.get(name) as never);
      }
    });

  test('a family nobody asked for costs no copy of its text, however many lines it has', () => {
    const body = (skippedFamilies: number) => {
      const lines = ['# TYPE wanted gauge', 'wanted{a="1"} 1'];
      for (let f = 0; f < skippedFamilies; f++) {
        lines.push(`# HELP skipped_${f} Some help.`, `# TYPE skipped_${f} histogram`);
        for (let s = 0; s < 50; s++)
          lines.push(`skipped_${f}_bucket{model="m${s}",le="+Inf"} ${s}`);
      }
      return `${lines.join('\n')}\n`;
    };
    const small = body(2);
    const large = body(40);
    const count = (text: string) =>
      stringCopies(() => parseExposition(text, { families: ['wanted'] }));
    expect(count(large)).toBe(count(small));
    // And without the filter every line is read (the count grows), so the measure can tell.
    expect(stringCopies(() => parseExposition(large))).toBeGreaterThan(count(large) + 1000);
  });

  test('a malformed line of a skipped family is passed over; one that starts with no name is not', () => {
    expect(parseExposition('other{{{ 1\nwanted 2\n', { families: ['wanted'] }).ok).toBe(true);
    expect(parseExposition('<html>\nwanted 2\n', { families: ['wanted'] })).toEqual({
      ok: false,
      error: { line: 1, message: 'invalid metric name' },
    });
  });
});
