import type { ElementChanges } from './check-changes.ts';
import { LayeredMap } from './layered-map.ts';
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
   * Set when the set arrived in a signed envelope (`raw` is then the whole envelope), or was made
   * by a signed delta (`madeBy`): the ids of the trusted keys whose signatures verified, empty
   * when no trust root was configured.
   */
  readonly signedBy?: readonly string[];
  /** Set when a delta made this set (`raw` is then the complete set as JSON). */
  readonly madeBy?: MadeByDelta;
  readonly models: ReadonlyMap<string, ModelRule>;
  readonly objectives: ReadonlyMap<string, ObjectiveRule>;
  /** routingKey → cluster. */
  readonly routingKeys: ReadonlyMap<string, string>;
  /** schema id → compiled payload schema. */
  readonly payloadSchemas: ReadonlyMap<string, CompiledPayloadSchema>;
}

/**
 * The delta message that made a set, as it arrived (a signed envelope or a bare delta), and the
 * version it was applied to: what last-known-good keeps of it, and what vouches for the set.
 */
export interface MadeByDelta {
  readonly message: Uint8Array;
  readonly signed: boolean;
  readonly base: number;
}

/** What {@linkcode compileRuleSet} needs besides the rule set. */
export interface CompileInput {
  readonly ruleSet: RuleSet;
  /** The bytes, or how to make them when first asked for (once). */
  readonly raw: Uint8Array | (() => Uint8Array);
  readonly encoding: 'json' | 'msgpack';
  readonly appliedAt: number;
  readonly signedBy?: readonly string[];
  readonly madeBy?: MadeByDelta;
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
  return { ok: true, value: assemble(input, { models, routingKeys, payloadSchemas, objectives }) };
}

/**
 * Compiles the result of a delta that changed only objectives (and top-level fields) of `base`:
 * the models, routing keys and payload validators are the base's own, and the objective map is
 * the base's with `changes` layered over it ({@linkcode LayeredMap}) — no work in proportion to
 * the set's size. Assumes `checkObjectiveChanges` passed.
 */
export function compileObjectiveChanges(
  input: CompileInput,
  base: CompiledRuleSet,
  changes: ElementChanges<ObjectiveRule>,
): CompiledRuleSet {
  const objectives = LayeredMap.derive(
    base.objectives,
    changes.removed.map((o) => o.id),
    changes.added.map(({ element }) => [element.id, element] as const),
  );
  const { models, routingKeys, payloadSchemas } = base;
  return assemble(input, { models, routingKeys, payloadSchemas, objectives });
}

type Lookups = Pick<CompiledRuleSet, 'models' | 'routingKeys' | 'payloadSchemas' | 'objectives'>;

function assemble(input: CompileInput, lookups: Lookups): CompiledRuleSet {
  const { ruleSet } = input;
  let raw = typeof input.raw === 'function' ? null : input.raw;
  const make = input.raw;
  return Object.freeze({
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
    ...(input.madeBy !== undefined ? { madeBy: input.madeBy } : {}),
    ...lookups,
  });
}
