import type { CompiledPayloadSchema, PayloadSchemaCache } from './payload-schema-cache.ts';
import { type Checked, refused } from './rejection.ts';
import type { ModelRule, ObjectiveRule, RuleSet } from './types.ts';

/**
 * A rule set ready for the hot path: lookup maps instead of arrays and compiled payload
 * validators. Immutable once built; swapped in whole.
 */
export interface CompiledRuleSet {
  readonly tenant: string;
  readonly version: number;
  readonly ruleSet: RuleSet;
  /**
   * The exact bytes the set arrived as, kept for last-known-good persistence and replay checks
   * (for a set made by a delta: the complete set as JSON, serialised on first use — after the
   * swap, not before it).
   */
  readonly raw: Uint8Array;
  readonly encoding: 'json' | 'msgpack';
  /** When this host applied it, ms since the epoch. */
  readonly appliedAt: number;
  /**
   * Set when the set arrived in a signed envelope (`raw` is then the whole envelope): the ids of
   * the trusted keys whose signatures verified, empty when no trust root was configured.
   */
  readonly signedBy?: readonly string[];
  readonly models: ReadonlyMap<string, ModelRule>;
  readonly objectives: ReadonlyMap<string, ObjectiveRule>;
  /** routingKey → cluster. */
  readonly routingKeys: ReadonlyMap<string, string>;
  /** schema id → compiled payload schema. */
  readonly payloadSchemas: ReadonlyMap<string, CompiledPayloadSchema>;
}

/** What {@linkcode compileRuleSet} needs besides the rule set. */
export interface CompileInput {
  readonly ruleSet: RuleSet;
  /** The bytes, or how to make them when first asked for (once). */
  readonly raw: Uint8Array | (() => Uint8Array);
  readonly encoding: 'json' | 'msgpack';
  readonly appliedAt: number;
  readonly signedBy?: readonly string[];
}

/**
 * Builds the lookup maps and compiles payload schemas (through `schemas`, which reuses
 * validators across versions). Assumes {@linkcode checkRuleSet} passed.
 */
export function compileRuleSet(
  input: CompileInput,
  schemas: PayloadSchemaCache,
): Checked<CompiledRuleSet> {
  const { ruleSet } = input;
  const payloadSchemas = new Map<string, CompiledPayloadSchema>();
  for (let i = 0; i < ruleSet.schemas.length; i++) {
    const entry = ruleSet.schemas[i] as RuleSet['schemas'][number];
    const compiled = schemas.compile(entry.id, entry.schema, `/schemas/${i}/schema`);
    if (!compiled.ok) return refused(compiled.rejection);
    payloadSchemas.set(entry.id, compiled.value);
  }
  const models = new Map<string, ModelRule>();
  const routingKeys = new Map<string, string>();
  for (const model of ruleSet.models) {
    models.set(model.id, model);
    routingKeys.set(model.routingKey, model.cluster);
  }
  const objectives = new Map<string, ObjectiveRule>();
  for (const rule of ruleSet.objectives) objectives.set(rule.id, rule);
  let raw = typeof input.raw === 'function' ? null : input.raw;
  const make = input.raw;
  return {
    ok: true,
    value: Object.freeze({
      tenant: ruleSet.tenant,
      version: ruleSet.version,
      ruleSet,
      get raw(): Uint8Array {
        raw ??= (make as () => Uint8Array)();
        return raw;
      },
      encoding: input.encoding,
      appliedAt: input.appliedAt,
      ...(input.signedBy !== undefined ? { signedBy: input.signedBy } : {}),
      models,
      objectives,
      routingKeys,
      payloadSchemas,
    }),
  };
}
