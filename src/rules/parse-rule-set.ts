import type { ValidateFunction } from 'ajv';
import { type DecodeLimits, decodeDocument, type Encoding } from '../codec/index.ts';
import { describeValue, toViolations } from '../json-schema/index.ts';
import { type Checked, type Rejection, refused, reject } from './rejection.ts';
import { validate as generatedValidate } from './rule-set.validator.generated.ts';
import type { RuleSet } from './types.ts';

/** `rule-set.schema.json`, compiled at build time (build/generate-validators.ts). */
const validateShape = generatedValidate as unknown as ValidateFunction<RuleSet>;

/** A rule set that passed decoding and the RuleSet schema, with the encoding it came in. */
export interface ParsedRuleSet {
  readonly ruleSet: RuleSet;
  readonly encoding: Encoding;
}

/** The result of {@linkcode parseRuleSet}; a refusal also says which version the document claimed. */
export type ParseResult =
  | { readonly ok: true; readonly value: ParsedRuleSet }
  | { readonly ok: false; readonly rejection: Rejection; readonly claimedVersion: number | null };

/**
 * Decodes a rule message and checks it against the RuleSet schema (`rule-set.schema.json`).
 * Cross-references are checked separately ({@linkcode checkRuleSet}), so a replayed version can
 * be recognised before paying for them. Never throws on bad input.
 */
export function parseRuleSet(
  bytes: Uint8Array,
  limits: DecodeLimits,
  contentType?: string,
): ParseResult {
  // The schema fixes the depth of everything except payload schemas, which the compiler walks.
  const decoded = decodeDocument(bytes, limits, contentType, { deferDepthCheck: true });
  if (!decoded.ok) {
    const rejection = reject(decoded.error.kind, decoded.error.path, decoded.error.message);
    return { ok: false, rejection, claimedVersion: null };
  }
  const checked = checkShape(decoded.value, decoded.encoding ?? 'json');
  return checked.ok ? checked : { ...checked, claimedVersion: claimedVersion(decoded.value) };
}

/**
 * The version a document claims, if it names a plausible one, so that a NACK for a set that
 * fails its schema can still say which version it refused.
 */
export function claimedVersion(value: unknown): number | null {
  const version = (value as { version?: unknown } | null)?.version;
  return Number.isSafeInteger(version) && (version as number) > 0 ? (version as number) : null;
}

/** Checks an already-decoded value against the RuleSet schema (for rule sets authored as code). */
export function checkShape(value: unknown, encoding: Encoding = 'json'): Checked<ParsedRuleSet> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return refused(
      reject('SCHEMA', '', `a rule set must be an object (got ${describeValue(value)})`),
    );
  }
  const problem = schemaProblem(validateShape, value);
  if (problem) return refused(problem);
  return { ok: true, value: { ruleSet: value as RuleSet, encoding } };
}

/**
 * `validate`'s first complaint about `value` as a `SCHEMA` refusal, its path under `at` (where
 * `value` sits in the rule set), or `null` when `value` passes.
 */
export function schemaProblem(
  validate: ValidateFunction,
  value: unknown,
  at = '',
): Rejection | null {
  if (validate(value)) return null;
  const [first] = toViolations(validate.errors, value);
  const v = first ?? { path: '', rule: 'schema', message: 'does not match the RuleSet schema' };
  return reject('SCHEMA', `${at}${v.path}`, `${v.message} [${v.rule}]`);
}
