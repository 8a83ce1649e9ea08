import { type DecodeLimits, decodeDocument, type Encoding } from '../codec/index.ts';
import { createAjv, describeValue, toViolations } from '../json-schema/index.ts';
import { type Checked, refused, reject } from './rejection.ts';
import schema from './rule-set.schema.json' with { type: 'json' };
import type { RuleSet } from './types.ts';

const validateShape = createAjv().compile<RuleSet>(schema);

/** A rule set that passed decoding and the RuleSet schema, with the encoding it came in. */
export interface ParsedRuleSet {
  readonly ruleSet: RuleSet;
  readonly encoding: Encoding;
}

/**
 * Decodes a rule message and checks it against the RuleSet schema (`rule-set.schema.json`).
 * Cross-references are checked separately ({@linkcode checkRuleSet}), so a replayed version can
 * be recognised before paying for them. Never throws on bad input.
 */
export function parseRuleSet(
  bytes: Uint8Array,
  limits: DecodeLimits,
  contentType?: string,
): Checked<ParsedRuleSet> {
  // The schema fixes the depth of everything except payload schemas, which the compiler walks.
  const decoded = decodeDocument(bytes, limits, contentType, { deferDepthCheck: true });
  if (!decoded.ok)
    return refused(reject(decoded.error.kind, decoded.error.path, decoded.error.message));
  return checkShape(decoded.value, decoded.encoding ?? 'json');
}

/** Checks an already-decoded value against the RuleSet schema (for rule sets authored as code). */
export function checkShape(value: unknown, encoding: Encoding = 'json'): Checked<ParsedRuleSet> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return refused(
      reject('SCHEMA', '', `a rule set must be an object (got ${describeValue(value)})`),
    );
  }
  if (!validateShape(value)) {
    const [first] = toViolations(validateShape.errors, value);
    const v = first ?? { path: '', rule: 'schema', message: 'does not match the RuleSet schema' };
    return refused(reject('SCHEMA', v.path, `${v.message} [${v.rule}]`));
  }
  return { ok: true, value: { ruleSet: value, encoding } };
}
