/**
 * RFC 6902 conformance of rule deltas: the cases of json-patch/json-patch-tests (`tests.json`,
 * test/fixtures/json-patch-tests/) through the real path a delta takes — `parseRuleDelta` checks
 * the operations, `patchRuleSet` applies them.
 *
 * A rule delta patches a rule set, an object, and never its root; so each case's document is put
 * under one member (`{"doc": …}`) and each pointer under `/doc` (`""` becomes `/doc`, `/foo/0`
 * becomes `/doc/foo/0`), which keeps every pointer's meaning inside the document. Divergences, by
 * design and documented in docs/rule-deltas.md, are listed in DIVERGES with what happens instead.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonEqual } from '../../src/codec/index.ts';
import { DELTA_KIND, parseRuleDelta, patchRuleSet, type RuleSet } from '../../src/rules/index.ts';

interface Case {
  comment?: string;
  doc: unknown;
  patch: Array<Record<string, unknown>>;
  expected?: unknown;
  error?: string;
}

const cases = JSON.parse(
  readFileSync(join(import.meta.dir, '..', 'fixtures', 'json-patch-tests', 'tests.json'), 'utf8'),
) as Case[];

const LIMITS = { maxBytes: 1 << 20, maxDepth: 32 };

/** The case's document and patch, moved one level down under `doc`. */
function wrapped(c: Case) {
  const under = (pointer: unknown) => (typeof pointer === 'string' ? `/doc${pointer}` : pointer);
  return {
    doc: { doc: c.doc },
    patch: c.patch.map((op) => ({
      ...op,
      ...('path' in op ? { path: under(op.path) } : {}),
      ...('from' in op ? { from: under(op.from) } : {}),
    })),
  };
}

/** What filament makes of a case: the patched document, or the refusal's code and message. */
function run(c: Case): { doc: unknown } | { refused: string } {
  const { doc, patch } = wrapped(c);
  const delta = {
    kind: DELTA_KIND,
    tenant: 'suite',
    base: 1,
    version: 2,
    digest: `sha256:${'0'.repeat(64)}`,
    patch,
  };
  const parsed = parseRuleDelta(new TextEncoder().encode(JSON.stringify(delta)), LIMITS);
  if (!parsed.ok) return { refused: `${parsed.rejection.code}: ${parsed.rejection.message}` };
  const patched = patchRuleSet(doc as unknown as RuleSet, parsed.value);
  if (!patched.ok) return { refused: `${patched.rejection.code}: ${patched.rejection.message}` };
  return { doc: (patched.value.ruleSet as unknown as { doc: unknown }).doc };
}

const MOVE_COPY =
  /^SCHEMA: "(move|copy)" is not supported: add, remove, replace or test \(move and copy as remove \+ add\)$/;
const EMPTY = /^SCHEMA: must be a non-empty array$/;

/**
 * Where filament does otherwise, on purpose: `move` and `copy` are not accepted in rule deltas
 * (`rules publish` writes them as remove + add, so every change names the value it writes), and a
 * delta without operations is refused (a delta always changes at least `/version`).
 */
function divergence(c: Case): RegExp | undefined {
  if (c.patch.some((op) => op.op === 'move' || op.op === 'copy')) return MOVE_COPY;
  if (c.patch.length === 0) return EMPTY;
  return undefined;
}

describe('json-patch-tests (RFC 6902) through parseRuleDelta → patchRuleSet', () => {
  for (const [i, c] of cases.entries())
    test(`#${i} ${c.comment ?? c.error ?? JSON.stringify(c.patch).slice(0, 60)}`, () => {
      const got = run(c);
      const differs = divergence(c);
      if (differs !== undefined) {
        expect('refused' in got && differs.test(got.refused)).toBe(true);
        return;
      }
      if (c.error !== undefined) {
        expect({ refused: 'refused' in got }).toEqual({ refused: true });
        return;
      }
      if ('refused' in got) throw new Error(`refused a valid patch: ${got.refused}`);
      if ('expected' in c) expect(jsonEqual(got.doc, c.expected)).toBe(true);
    });

  test('the fixture holds the suite file (84 cases, the 3 it marks disabled left out)', () => {
    expect(cases.length).toBe(84);
    expect(cases.filter((c) => c.error !== undefined).length).toBe(24);
    expect(cases.filter((c) => divergence(c) !== undefined).length).toBe(16);
  });
});
