import type { CompiledPayloadSchema, PayloadSchemaCache } from './payload-schema-cache.ts';
import { type Checked, refused } from './rejection.ts';
import type { ModelRule, ObjectiveRule, RuleSet } from './types.ts';

/** An objective with the set of models it may send traffic to (default, cells, canary, shadow, fallback). */
export interface CompiledObjective {
  readonly rule: ObjectiveRule;
  readonly targets: ReadonlySet<string>;
}

/**
 * A rule set ready for the hot path: lookup maps instead of arrays and compiled payload
 * validators. Immutable once built; swapped in whole.
 */
export interface CompiledRuleSet {
  readonly tenant: string;
  readonly version: number;
  readonly ruleSet: RuleSet;
  /** The exact bytes the set arrived as, kept for last-known-good persistence and replay checks. */
  readonly raw: Uint8Array;
  readonly encoding: 'json' | 'msgpack';
  /** When this host applied it, ms since the epoch. */
  readonly appliedAt: number;
  readonly models: ReadonlyMap<string, ModelRule>;
  readonly objectives: ReadonlyMap<string, CompiledObjective>;
  /** routingKey → cluster. */
  readonly routingKeys: ReadonlyMap<string, string>;
  /** schema id → compiled payload schema. */
  readonly payloadSchemas: ReadonlyMap<string, CompiledPayloadSchema>;
}

/** What {@linkcode compileRuleSet} needs besides the rule set. */
export interface CompileInput {
  readonly ruleSet: RuleSet;
  readonly raw: Uint8Array;
  readonly encoding: 'json' | 'msgpack';
  readonly appliedAt: number;
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
  const objectives = new Map<string, CompiledObjective>();
  for (const rule of ruleSet.objectives)
    objectives.set(rule.id, { rule, targets: targetsOf(rule) });
  return {
    ok: true,
    value: Object.freeze({
      tenant: ruleSet.tenant,
      version: ruleSet.version,
      ruleSet,
      raw: input.raw,
      encoding: input.encoding,
      appliedAt: input.appliedAt,
      models,
      objectives,
      routingKeys,
      payloadSchemas,
    }),
  };
}

function targetsOf(rule: ObjectiveRule): ReadonlySet<string> {
  const targets = new Set<string>([rule.defaultModel]);
  for (const cell of rule.cells ?? []) targets.add(cell.model);
  for (const canary of rule.canary ?? []) targets.add(canary.model);
  for (const id of rule.shadow ?? []) targets.add(id);
  for (const id of rule.fallback ?? []) targets.add(id);
  return targets;
}
