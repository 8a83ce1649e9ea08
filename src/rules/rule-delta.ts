import { isDeepStrictEqual } from 'node:util';
import { applyPatches, enablePatches, type Patch, setAutoFreeze } from 'immer';
import { type DecodeLimits, decodeJson, FORBIDDEN_KEYS, pointerSegments } from '../codec/index.ts';
import { accepted, type Checked, refused, reject } from './rejection.ts';
import type { RuleSet } from './types.ts';

enablePatches();
// Rule sets are never mutated after install; freezing 2 MB on every apply would cost for nothing.
setAutoFreeze(false);

/** The content type of a rule delta (docs/rule-deltas.md). */
export const DELTA_CONTENT_TYPE = 'application/vnd.filament.rules-delta+json';
/** The `kind` every delta carries. */
export const DELTA_KIND = 'filament.rules.delta/v1';
/** The most operations one delta may carry. */
export const MAX_DELTA_OPS = 10_000;

/** One RFC 6902 operation filament applies. */
export type DeltaOp =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/** A rule delta: the change from version `base` to version `version` of a tenant's rule set. */
export interface RuleDelta {
  readonly kind: typeof DELTA_KIND;
  readonly tenant: string;
  readonly base: number;
  readonly version: number;
  /** The rule-set digest of the complete result (`sha256:…`). */
  readonly digest: string;
  readonly patch: readonly DeltaOp[];
}

const OPS: ReadonlySet<string> = new Set(['add', 'remove', 'replace', 'test']);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Decodes and checks an untrusted delta: the size and nesting caps of any rule message, then its
 * shape — `kind`, `tenant`, integer versions with `version` > `base`, a `sha256:` digest, and at
 * most {@linkcode MAX_DELTA_OPS} operations of `add`, `remove`, `replace` or `test` whose paths are
 * JSON Pointers no deeper than the nesting cap and free of `__proto__`, `constructor` and
 * `prototype`. Each refusal names the field (`SCHEMA`, `FORBIDDEN_KEY`, `TOO_DEEP`, …).
 */
export function parseRuleDelta(bytes: Uint8Array, limits: DecodeLimits): Checked<RuleDelta> {
  const decoded = decodeJson(bytes, limits);
  if (!decoded.ok) {
    const e = decoded.error;
    return refused(reject(e.kind, e.path, e.message));
  }
  const d = decoded.value as Record<string, unknown>;
  const bad = (path: string, message: string) =>
    refused<RuleDelta>(reject('SCHEMA', path, message));
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    return bad('', 'a delta is an object');
  if (d.kind !== DELTA_KIND) return bad('/kind', `must be "${DELTA_KIND}"`);
  if (typeof d.tenant !== 'string' || d.tenant === '')
    return bad('/tenant', 'must be a tenant name');
  for (const key of ['base', 'version'] as const)
    if (!Number.isSafeInteger(d[key]) || (d[key] as number) < 1)
      return bad(`/${key}`, 'must be a positive integer');
  if ((d.version as number) <= (d.base as number))
    return bad('/version', `must be greater than base ${d.base}`);
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest))
    return bad('/digest', 'must be "sha256:" and 64 lower-case hex digits');
  if (!Array.isArray(d.patch) || d.patch.length === 0)
    return bad('/patch', 'must be a non-empty array');
  if (d.patch.length > MAX_DELTA_OPS)
    return refused(
      reject('TOO_LARGE', '/patch', `${d.patch.length} operations; at most ${MAX_DELTA_OPS}`),
    );
  for (const [i, raw] of (d.patch as unknown[]).entries()) {
    const problem = checkOp(raw, i, limits.maxDepth);
    if (problem) return refused(problem);
  }
  return accepted(d as unknown as RuleDelta);
}

function checkOp(raw: unknown, i: number, maxDepth: number) {
  const at = `/patch/${i}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return reject('SCHEMA', at, 'an operation is an object');
  const op = raw as Record<string, unknown>;
  if (typeof op.op !== 'string' || !OPS.has(op.op))
    return reject(
      'SCHEMA',
      `${at}/op`,
      `"${String(op.op)}" is not supported: add, remove, replace or test (move and copy as remove + add)`,
    );
  if (typeof op.path !== 'string') return reject('SCHEMA', `${at}/path`, 'must be a JSON Pointer');
  const segments = pointerSegments(op.path);
  if (segments === null)
    return reject('SCHEMA', `${at}/path`, `"${op.path}" is not a JSON Pointer (RFC 6901)`);
  if (segments.length === 0)
    return reject(
      'SCHEMA',
      `${at}/path`,
      'the whole document cannot be patched: publish a full set',
    );
  if (segments.length > maxDepth)
    return reject(
      'TOO_DEEP',
      `${at}/path`,
      `${segments.length} levels deep; the limit is ${maxDepth}`,
    );
  const forbidden = segments.find((s) => FORBIDDEN_KEYS.has(s));
  if (forbidden !== undefined)
    return reject('FORBIDDEN_KEY', `${at}/path`, `"${forbidden}" may not appear in a path`);
  if (op.op !== 'remove' && !('value' in op))
    return reject('SCHEMA', `${at}/value`, `"${op.op}" needs a value`);
  return null;
}

/**
 * Applies `delta`'s patch to `base` (the rule set at exactly `delta.base`), returning the new
 * document and leaving `base` untouched: containers along each changed path are copied, every
 * other part is shared (so unchanged objectives keep their cached digests and compiled forms).
 * Every operation is checked against the document as RFC 6902 says — `remove`, `replace` and
 * `test` need an existing target, `add` an existing parent and an index no past the end, `test`
 * an equal value — and the first that fails refuses the whole delta, naming it (`BAD_PATCH`).
 */
export function applyRuleDelta(base: RuleSet, delta: RuleDelta): Checked<RuleSet> {
  const patches: Patch[] = [];
  // A shadow of the document as the ops so far have left it, for checking the next op: only the
  // containers touched are copied, like the real apply below.
  let doc: unknown = base;
  for (const [i, op] of delta.patch.entries()) {
    const at = `/patch/${i}`;
    const path = pointerSegments(op.path) as string[];
    const resolved = resolve(doc, path);
    if (typeof resolved === 'string')
      return refused(reject('BAD_PATCH', at, `${op.op} ${op.path}: ${resolved}`));
    const { parent, key, exists } = resolved;
    if (op.op === 'test') {
      if (!exists || !isDeepStrictEqual(get(parent, key), op.value))
        return refused(reject('BAD_PATCH', at, `test ${op.path}: the value differs`));
      continue;
    }
    if (op.op !== 'add' && !exists)
      return refused(reject('BAD_PATCH', at, `${op.op} ${op.path}: nothing there`));
    const patch: Patch =
      op.op === 'remove'
        ? { op: 'remove', path: resolved.path }
        : { op: op.op, path: resolved.path, value: structuredClone(op.value) };
    patches.push(patch);
    doc = applyPatches(doc as object, [patch]);
  }
  return accepted(doc as RuleSet);
}

type Resolved = {
  parent: unknown;
  key: string | number;
  exists: boolean;
  path: Array<string | number>;
};

/** Where `segments` lead in `doc`: the parent container, the key in it, and whether it exists. */
function resolve(doc: unknown, segments: readonly string[]): Resolved | string {
  let node = doc;
  const path: Array<string | number> = [];
  for (const [depth, segment] of segments.entries()) {
    const last = depth === segments.length - 1;
    if (Array.isArray(node)) {
      const index =
        segment === '-' ? node.length : /^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : -1;
      if (index < 0) return `"${segment}" is not an array index`;
      if (last) {
        if (index > node.length) return `index ${index} is past the end (${node.length})`;
        return { parent: node, key: index, exists: index < node.length, path: [...path, index] };
      }
      if (index >= node.length) return `index ${index} is past the end (${node.length})`;
      path.push(index);
      node = node[index];
    } else if (typeof node === 'object' && node !== null) {
      const own = Object.hasOwn(node, segment);
      if (last) return { parent: node, key: segment, exists: own, path: [...path, segment] };
      if (!own) return `no "${segment}" at /${segments.slice(0, depth).join('/')}`;
      path.push(segment);
      node = (node as Record<string, unknown>)[segment];
    } else return `/${segments.slice(0, depth).join('/')} is not an object or array`;
  }
  return 'empty path';
}

function get(parent: unknown, key: string | number): unknown {
  return (parent as Record<string | number, unknown>)[key];
}
