import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { pack } from 'msgpackr';
import { decodeMsgpack } from '../../src/codec/index.ts';
import {
  applyRuleDelta,
  DELTA_KIND,
  MAX_DELTA_OPS,
  parseRuleDelta,
  patchRuleSet,
  type RuleDelta,
  type RuleSet,
  RuleSetDigester,
  ruleSetDigest,
} from '../../src/rules/index.ts';
import { jsonBytes, largeRuleSet, ruleSet } from '../helpers/rule-sets.ts';

const LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32 };
const DIGEST = `sha256:${'0'.repeat(64)}`;

function delta(patch: unknown[], over: Record<string, unknown> = {}): Uint8Array {
  return jsonBytes({
    kind: DELTA_KIND,
    tenant: 'acme',
    base: 1,
    version: 2,
    digest: DIGEST,
    patch,
    ...over,
  });
}

function parsed(patch: unknown[]): RuleDelta {
  const result = parseRuleDelta(delta(patch), LIMITS);
  if (!result.ok) throw new Error(result.rejection.message);
  return result.value;
}

function reorder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorder);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reorder(v)]),
    );
  return value;
}

describe('the rule-set digest', () => {
  test('the same set in any key order and either encoding has one digest', () => {
    const set = ruleSet('acme', 1);
    const digest = ruleSetDigest(set);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ruleSetDigest(reorder(set) as RuleSet)).toBe(digest);
    const fromMsgpack = decodeMsgpack(pack(set), LIMITS);
    expect(fromMsgpack.ok && ruleSetDigest(fromMsgpack.value as RuleSet)).toBe(digest);
  });

  test('any change changes it, including the order of objectives', () => {
    const set = ruleSet('acme', 1);
    const digest = ruleSetDigest(set);
    expect(ruleSetDigest({ ...set, version: 2 })).not.toBe(digest);
    expect(ruleSetDigest({ ...set, models: [...set.models].reverse() })).not.toBe(digest);
    const objectives = [{ ...(set.objectives[0] as object), fallback: [] }];
    expect(ruleSetDigest({ ...set, objectives } as unknown as RuleSet)).not.toBe(digest);
  });

  test('warming hashes ahead of need, a chunk at a time, and agrees with a fresh digest', async () => {
    const digester = new RuleSetDigester();
    const set = largeRuleSet('acme', 1, 600);
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    await digester.warm(set, 100);
    clearInterval(counting);
    expect(turns).toBeGreaterThan(0); // it gave the event loop turns
    expect(digester.digest(set)).toBe(ruleSetDigest(set));
  });

  test('is the text docs/rule-deltas.md spells out, computed here from the page alone', () => {
    // 150 objectives: two full chunks of 64 and a last one of 22.
    const set = largeRuleSet('acme', 3, 150, 5);
    const hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    const { schemas, models, objectives, ...header } = set;
    let text = `filament-rules-digest/1\n${canonicalize(header)}\n`;
    for (const [name, list] of Object.entries({ schemas, models, objectives })) {
      text += `${name} ${list.length}\n`;
      for (let start = 0; start < list.length; start += 64)
        text += `${hex(
          list
            .slice(start, start + 64)
            .map((element) => `${hex(canonicalize(element) as string)}\n`)
            .join(''),
        )}\n`;
    }
    expect(ruleSetDigest(set)).toBe(`sha256:${hex(text)}`);
  });

  test('with the base as a hint, reused chunks agree with a fresh digest: insert, remove, append, replace', () => {
    const base = largeRuleSet('acme', 1, 200);
    const o = (i: number) => ({ ...(base.objectives[i] as object), id: `new-${i}` });
    const cases = [
      [{ op: 'add', path: '/objectives/70', value: o(70) }],
      [{ op: 'remove', path: '/objectives/3' }],
      [{ op: 'add', path: '/objectives/-', value: o(1) }],
      [{ op: 'remove', path: '/objectives/199' }],
      [{ op: 'replace', path: '/objectives/130/defaultModel', value: 'model-9' }],
      [{ op: 'replace', path: '/issuedAt', value: '2026-12-01T00:00:00Z' }],
    ];
    for (const ops of cases) {
      const digester = new RuleSetDigester();
      digester.digest(base);
      const result = applyRuleDelta(
        base,
        parsed([...ops, { op: 'replace', path: '/version', value: 2 }]),
      );
      if (!result.ok) throw new Error(result.rejection.message);
      expect(digester.digest(result.value, base)).toBe(ruleSetDigest(result.value));
    }
  });

  test('told where deltas wrote, a chain of them agrees with fresh digests: one chunk, two, the short last one', () => {
    const digester = new RuleSetDigester();
    let base = largeRuleSet('acme', 1, 150);
    digester.digest(base);
    const cases = [[17], [3, 60], [5, 130], [149], [64, 127, 128]];
    for (const [n, indices] of cases.entries()) {
      const patch = indices.map((i) => ({
        op: 'replace',
        path: `/objectives/${i}/defaultModel`,
        value: `model-${n}`,
      }));
      const result = patchRuleSet(
        base,
        parsed([...patch, { op: 'replace', path: '/version', value: n + 2 }]),
      );
      if (!result.ok) throw new Error(result.rejection.message);
      expect(result.value.touched.objectives).toEqual(new Set(indices));
      const { ruleSet, touched } = result.value;
      expect(digester.digest(ruleSet, base, touched)).toBe(ruleSetDigest(ruleSet));
      base = ruleSet;
    }
  });

  test('a patch writes into a copy prepared for an array, once, and leaves the original alone', () => {
    const base = largeRuleSet('acme', 1, 100);
    const copies = new WeakMap<readonly unknown[], unknown[]>();
    const prepared = base.objectives.slice();
    copies.set(base.objectives, prepared);
    const delta = parsed([
      { op: 'replace', path: '/objectives/7/defaultModel', value: 'model-1' },
      { op: 'replace', path: '/version', value: 2 },
    ]);
    const first = patchRuleSet(base, delta, copies);
    if (!first.ok) throw new Error(first.rejection.message);
    expect(first.value.ruleSet.objectives).toBe(prepared as RuleSet['objectives']);
    expect(first.value.ruleSet.objectives[7]?.defaultModel).toBe('model-1');
    expect(base.objectives[7]?.defaultModel).not.toBe('model-1');
    expect(copies.has(base.objectives)).toBe(false);
    const second = patchRuleSet(base, delta, copies);
    expect(second.ok && second.value.ruleSet.objectives).not.toBe(prepared);
  });

  test('the cached digester agrees with a fresh one after a delta', () => {
    const digester = new RuleSetDigester();
    const base = largeRuleSet('acme', 1, 300);
    digester.digest(base);
    const result = applyRuleDelta(
      base,
      parsed([
        { op: 'replace', path: '/objectives/17/defaultModel', value: base.models[3]?.id },
        { op: 'replace', path: '/version', value: 2 },
      ]),
    );
    if (!result.ok) throw new Error(result.rejection.message);
    expect(digester.digest(result.value)).toBe(ruleSetDigest(result.value));
  });
});

describe('parsing a delta', () => {
  test('a well-formed delta', () => {
    expect(parsed([{ op: 'replace', path: '/version', value: 2 }])).toMatchObject({
      kind: DELTA_KIND,
      base: 1,
      version: 2,
    });
  });

  const refused = (bytes: Uint8Array, limits = LIMITS) => {
    const result = parseRuleDelta(bytes, limits);
    return result.ok ? null : result.rejection;
  };

  test('hostile or malformed deltas are refused, naming what is wrong', () => {
    expect(
      refused(delta([{ op: 'add', path: '/objectives/0/__proto__', value: {} }])),
    ).toMatchObject({
      code: 'FORBIDDEN_KEY',
      path: '/patch/0/path',
    });
    expect(refused(delta([{ op: 'add', path: '/a/constructor/prototype', value: 1 }]))?.code).toBe(
      'FORBIDDEN_KEY',
    );
    const deep = `/${Array.from({ length: 40 }, () => 'x').join('/')}`;
    expect(refused(delta([{ op: 'add', path: deep, value: 1 }]))).toMatchObject({
      code: 'TOO_DEEP',
      message: '40 levels deep; the limit is 32',
    });
    const many = Array.from({ length: MAX_DELTA_OPS + 1 }, () => ({
      op: 'test',
      path: '/version',
      value: 1,
    }));
    expect(refused(delta(many), { maxBytes: 64 * 1024 * 1024, maxDepth: 32 })?.code).toBe(
      'TOO_LARGE',
    );
    expect(
      refused(delta([{ op: 'replace', path: '/version', value: 'x'.repeat(2 * 1024 * 1024) }]))
        ?.code,
    ).toBe('TOO_LARGE');
    expect(refused(delta([{ op: 'move', from: '/a', path: '/b' }]))?.message).toContain(
      'move and copy as remove + add',
    );
    expect(refused(delta([{ op: 'replace', path: 'version', value: 2 }]))?.message).toContain(
      'not a JSON Pointer',
    );
    expect(refused(delta([{ op: 'replace', path: '/a~2b', value: 2 }]))?.message).toContain(
      'not a JSON Pointer',
    );
    expect(refused(delta([{ op: 'replace', path: '', value: {} }]))?.message).toContain(
      'publish a full set',
    );
    expect(refused(delta([{ op: 'replace', path: '/version' }]))?.path).toBe('/patch/0/value');
    expect(refused(delta([], {}))?.path).toBe('/patch');
    expect(
      refused(delta([{ op: 'test', path: '/version', value: 1 }], { version: 1 }))?.message,
    ).toBe('must be greater than base 1');
    expect(
      refused(delta([{ op: 'test', path: '/version', value: 1 }], { digest: 'md5:00' }))?.path,
    ).toBe('/digest');
    expect(refused(delta([{ op: 'test', path: '/version', value: 1 }], { kind: 'x' }))?.path).toBe(
      '/kind',
    );
    expect(refused(jsonBytes({ kind: DELTA_KIND, __proto__: { x: 1 } }))?.code).toBeDefined();
  });
});

describe('applying a delta', () => {
  const base = ruleSet('acme', 1);

  test('changes what the patch says, shares the rest, and leaves the base untouched', () => {
    const before = structuredClone(base);
    const result = applyRuleDelta(
      base,
      parsed([
        { op: 'test', path: '/objectives/0/id', value: 'chat' },
        { op: 'replace', path: '/objectives/0/cells/0/percent', value: 80 },
        { op: 'replace', path: '/objectives/0/cells/1/percent', value: 20 },
        {
          op: 'add',
          path: '/models/-',
          value: { ...base.models[0], id: 'mistral', routingKey: 'acme.mistral' },
        },
        { op: 'remove', path: '/objectives/0/fallback' },
        { op: 'replace', path: '/version', value: 2 },
      ]),
    );
    if (!result.ok) throw new Error(result.rejection.message);
    const next = result.value;
    expect(base).toEqual(before);
    expect(next.version).toBe(2);
    expect(next.objectives[0]?.cells?.map((c) => c.percent)).toEqual([80, 20]);
    expect(next.models.map((m) => m.id)).toEqual(['llama-8b', 'qwen-7b', 'mistral']);
    expect(next.objectives[0]).not.toHaveProperty('fallback');
    // Untouched parts are the very same objects (unchanged objectives keep their caches).
    expect(next.schemas).toBe(base.schemas);
    expect(next.models[0]).toBe(base.models[0]);
  });

  test('an operation that does not fit the document refuses the whole delta, naming it', () => {
    const fails = (patch: unknown[]) => {
      const result = applyRuleDelta(base, parsed(patch));
      return result.ok ? null : result.rejection;
    };
    expect(fails([{ op: 'test', path: '/objectives/0/id', value: 'other' }])).toMatchObject({
      code: 'BAD_PATCH',
      path: '/patch/0',
      message: 'test /objectives/0/id: the value differs',
    });
    expect(
      fails([
        { op: 'replace', path: '/version', value: 2 },
        { op: 'replace', path: '/nothing', value: 1 },
      ]),
    ).toMatchObject({
      path: '/patch/1',
      message: 'replace /nothing: nothing there',
    });
    expect(fails([{ op: 'remove', path: '/objectives/5' }])?.message).toBe(
      'remove /objectives/5: index 5 is past the end (1)',
    );
    expect(fails([{ op: 'add', path: '/objectives/x', value: {} }])?.message).toBe(
      'add /objectives/x: "x" is not an array index',
    );
    expect(fails([{ op: 'add', path: '/missing/deeper', value: 1 }])?.message).toBe(
      'add /missing/deeper: no "missing" at /',
    );
    expect(fails([{ op: 'add', path: '/version/deeper', value: 1 }])?.message).toBe(
      'add /version/deeper: /version is not an object or array',
    );
  });
});
