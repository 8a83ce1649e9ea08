import { isDeepStrictEqual } from 'node:util';
import { joinPointer } from '../codec/index.ts';
import { DELTA_KIND, type DeltaOp, type RuleDelta } from './rule-delta.ts';
import { ruleSetDigest } from './rule-digest.ts';
import type { RuleSet } from './types.ts';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An RFC 6902 patch that turns `from` into `to`: objects key by key, arrays element by element
 * (appended elements added at the end, trailing ones removed from the end), anything else
 * replaced. Not minimal for an element inserted mid-array (the rest are replaced), always
 * correct. Pure.
 */
export function diffDocuments(
  from: unknown,
  to: unknown,
  path = '',
  ops: DeltaOp[] = [],
): DeltaOp[] {
  if (isDeepStrictEqual(from, to)) return ops;
  if (isObject(from) && isObject(to)) {
    for (const key of Object.keys(from))
      if (!Object.hasOwn(to, key)) ops.push({ op: 'remove', path: joinPointer(path, key) });
    for (const [key, value] of Object.entries(to))
      if (Object.hasOwn(from, key)) diffDocuments(from[key], value, joinPointer(path, key), ops);
      else ops.push({ op: 'add', path: joinPointer(path, key), value });
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) diffDocuments(from[i], to[i], joinPointer(path, i), ops);
    for (let i = from.length - 1; i >= to.length; i--)
      ops.push({ op: 'remove', path: joinPointer(path, i) });
    for (let i = from.length; i < to.length; i++)
      ops.push({ op: 'add', path: joinPointer(path, '-'), value: to[i] });
    return ops;
  }
  ops.push({ op: 'replace', path, value: to });
  return ops;
}

/** The delta from `from` to `to` (two versions of one tenant's set), with the digest of `to`. */
export function buildRuleDelta(from: RuleSet, to: RuleSet): RuleDelta {
  return {
    kind: DELTA_KIND,
    tenant: to.tenant,
    base: from.version,
    version: to.version,
    digest: ruleSetDigest(to),
    patch: diffDocuments(from, to),
  };
}
