/**
 * Rule sets: the RuleSet contract (`rule-set.schema.json`), the pipeline that turns a rule
 * message into a compiled, swapped-in rule set or a precise rejection, and the versioned store
 * the hot path reads from.
 * @module
 */
export { changedElements, type ElementChanges } from './check-changes.ts';
export { checkRuleSet } from './check-rule-set.ts';
export { type CompiledRuleSet, compileRuleSet, type MadeByDelta } from './compile-rule-set.ts';
export { buildRuleDelta, diffDocuments } from './diff-rule-sets.ts';
export { LayeredMap } from './layered-map.ts';
export {
  checkShape,
  claimedVersion,
  type ParsedRuleSet,
  type ParseResult,
  parseRuleSet,
} from './parse-rule-set.ts';
export { type CompiledPayloadSchema, PayloadSchemaCache } from './payload-schema-cache.ts';
export { readEnvelope } from './read-envelope.ts';
export {
  formatRejection,
  REJECTION_CODES,
  type Rejection,
  type RejectionCode,
} from './rejection.ts';
export {
  type ApplyOutcome,
  RuleApplier,
  type RuleApplierOptions,
  type RuleMessage,
} from './rule-applier.ts';
export {
  applyRuleDelta,
  DELTA_CONTENT_TYPE,
  DELTA_KIND,
  type DeltaOp,
  MAX_DELTA_OPS,
  type PatchedRuleSet,
  parseRuleDelta,
  patchRuleSet,
  type RuleDelta,
  type TouchedSections,
} from './rule-delta.ts';
export { DIGEST_CHUNK, RuleSetDigester, ruleSetDigest } from './rule-digest.ts';
export { RuleStore, type RulesListener, type TenantRules } from './rule-store.ts';
export type {
  CanaryRule,
  CellRule,
  ModelRule,
  ObjectiveRule,
  PayloadSchemaRule,
  PayloadValidationRule,
  RuleSet,
  ServedIdentity,
} from './types.ts';
