import type { RuleSet } from '../../src/rules/index.ts';

/** A small valid rule set for `tenant` at `version`; `overrides` replace top-level fields. */
export function ruleSet(
  tenant: string,
  version: number,
  overrides: Record<string, unknown> = {},
): RuleSet {
  return {
    tenant,
    version,
    issuedAt: '2026-11-01T00:00:00Z',
    schemas: [{ id: 'chat/v1', schema: { type: 'object', required: ['messages'] } }],
    models: [
      {
        id: 'llama-8b',
        version: '2026-10-01',
        routingKey: `${tenant}.llama-8b`,
        cluster: 'gpu-east',
        schemaId: 'chat/v1',
      },
      {
        id: 'qwen-7b',
        version: '2026-09-15',
        routingKey: `${tenant}.qwen-7b`,
        cluster: 'gpu-east',
        schemaId: 'chat/v1',
      },
    ],
    objectives: [
      {
        id: 'chat',
        defaultModel: 'llama-8b',
        cells: [
          { id: 'A', model: 'llama-8b', percent: 50 },
          { id: 'B', model: 'qwen-7b', percent: 50 },
        ],
        fallback: ['qwen-7b'],
      },
    ],
    ...overrides,
  } as RuleSet;
}

/**
 * {@linkcode ruleSet} with chat's A/B split at `a` % to llama-8b: versions that differ in two
 * numbers, as a one-line change to a rule set does.
 */
export function splitRuleSet(tenant: string, version: number, a = 50): RuleSet {
  const set = ruleSet(tenant, version);
  const chat = set.objectives[0] as RuleSet['objectives'][number];
  return {
    ...set,
    objectives: [
      {
        ...chat,
        cells: [
          { id: 'A', model: 'llama-8b', percent: a },
          { id: 'B', model: 'qwen-7b', percent: 100 - a },
        ],
      },
    ],
  } as RuleSet;
}

/** `value` as JSON bytes. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * A valid rule set with `objectives` objectives over `models` models (for size and speed tests).
 * Each objective has two A/B cells, a canary and a fallback, as real sets do.
 */
export function largeRuleSet(
  tenant: string,
  version: number,
  objectives: number,
  models = 200,
): RuleSet {
  const modelRules = Array.from({ length: models }, (_, i) => ({
    id: `model-${i}`,
    version: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`,
    routingKey: `${tenant}.route.model-${i}`,
    cluster: `gpu-pool-${i % 8}`,
    schemaId: `payload/v${i % 4}`,
  }));
  const schemas = Array.from({ length: 4 }, (_, i) => ({
    id: `payload/v${i}`,
    schema: {
      type: 'object',
      required: ['input'],
      properties: { input: { type: 'string', maxLength: 1000 * (i + 1) } },
    },
  }));
  const objectiveRules = Array.from({ length: objectives }, (_, i) => ({
    id: `objective-${i}`,
    defaultModel: `model-${i % models}`,
    cells: [
      { id: 'A', model: `model-${i % models}`, percent: 90 },
      { id: 'B', model: `model-${(i + 1) % models}`, percent: 10 },
    ],
    canary: [{ model: `model-${(i + 2) % models}`, percent: 1 }],
    fallback: [`model-${(i + 3) % models}`],
  }));
  return {
    tenant,
    version,
    issuedAt: '2026-11-01T00:00:00Z',
    schemas,
    models: modelRules,
    objectives: objectiveRules,
  };
}

/**
 * `prev` at version `v` with one objective's default model changed (which one, and to what, follow
 * from `v`); every other objective is `prev`'s own object, as after a delta. For sets from
 * {@linkcode largeRuleSet} with its 200 models.
 */
export function oneObjectiveChanged(prev: RuleSet, v: number): RuleSet {
  const objectives = [...prev.objectives];
  const i = (v * 977) % objectives.length;
  objectives[i] = {
    ...(objectives[i] as RuleSet['objectives'][number]),
    defaultModel: `model-${v % 200}`,
  };
  return { ...prev, version: v, objectives };
}
