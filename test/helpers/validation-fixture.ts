import { StaticModelInventory } from '../../src/inventory/index.ts';
import { RuleApplier, type RuleSet, RuleStore } from '../../src/rules/index.ts';
import {
  type ObjectiveConfig,
  type ReasonCode,
  RequestValidator,
} from '../../src/validation/index.ts';
import { jsonBytes } from './rule-sets.ts';

/** A rule set that exercises every target kind, two payload schemas (one with a tensor) and every payload mode. */
export function validationRuleSet(version: number, llamaVersion = '2026-10-01'): RuleSet {
  const model = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    version: id === 'llama' ? llamaVersion : '1',
    routingKey: `acme.${id}`,
    cluster: 'gpu-east',
    schemaId: 'chat/v1',
    ...extra,
  });
  return {
    tenant: 'acme',
    version,
    issuedAt: '2026-11-01T00:00:00Z',
    schemas: [
      {
        id: 'chat/v1',
        schema: {
          type: 'object',
          required: ['messages'],
          properties: {
            messages: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['content'],
                properties: { content: { type: 'string' } },
              },
            },
          },
        },
      },
      {
        id: 'embed/v1',
        schema: {
          type: 'object',
          required: ['input'],
          properties: { input: { tensor: { dtype: 'float32', shape: [-1, 4] } } },
        },
      },
    ],
    models: [
      model('llama'),
      model('qwen'),
      model('canary'),
      model('shadow'),
      model('fallback'),
      model('far', { cluster: 'gpu-west' }),
      model('cold'),
      model('absent'),
      model('embed', { schemaId: 'embed/v1' }),
    ],
    objectives: [
      {
        id: 'chat',
        defaultModel: 'llama',
        cells: [
          { id: 'A', model: 'llama', percent: 50 },
          { id: 'B', model: 'qwen', percent: 50 },
        ],
        canary: [{ model: 'canary', percent: 5 }],
        shadow: ['shadow'],
        fallback: ['fallback', 'far', 'cold', 'absent'],
        payloadValidation: 'always',
      },
      { id: 'embed', defaultModel: 'embed', payloadValidation: 'always' },
      { id: 'sampled', defaultModel: 'llama', payloadValidation: { sampleOneIn: 3 } },
      { id: 'quiet', defaultModel: 'llama' },
    ],
  } as RuleSet;
}

/** A store with `versions` applied, a validator over it, and a valid config to vary. */
export function validationFixture(versions: readonly number[] = [3, 4, 5], historySize = 3) {
  const store = new RuleStore(historySize);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 1 << 20, maxDepth: 32 },
    now: () => Date.parse('2026-11-23T00:00:00Z'),
  });
  for (const v of versions) {
    const outcome = applier.apply({
      tenant: 'acme',
      bytes: jsonBytes(validationRuleSet(v, v >= 5 ? '2026-11-01' : '2026-10-01')),
    });
    if (outcome.status !== 'applied')
      throw new Error(`fixture v${v} refused: ${JSON.stringify(outcome)}`);
  }
  const ready = ['qwen', 'canary', 'shadow', 'fallback', 'far', 'embed'].map((id) => ({
    id,
    version: '1',
    ready: true,
  }));
  const models = new StaticModelInventory([
    ...ready,
    { id: 'llama', version: '2026-10-01', ready: true },
    { id: 'llama', version: '2026-11-01', ready: true },
    { id: 'cold', version: '1', ready: false },
  ]);
  const validator = new RequestValidator({
    store,
    models,
    cluster: 'gpu-east',
    payloadLimits: { maxBytes: 1 << 20, maxDepth: 32 },
  });
  const newest = versions[versions.length - 1] as number;
  const config = (overrides: Partial<ObjectiveConfig> = {}): ObjectiveConfig => ({
    tenant: 'acme',
    objective: 'chat',
    model: 'llama',
    modelVersion: newest >= 5 ? '2026-11-01' : '2026-10-01',
    ruleVersion: newest,
    schemaId: 'chat/v1',
    routingKey: 'acme.llama',
    ...overrides,
  });
  return { store, applier, models, validator, config };
}

/** A filament.v1.ObjectiveConfig message (proto field names) that is valid against {@linkcode validationRuleSet}(1). */
export const VALID_CONFIG_MESSAGE = Object.freeze({
  tenant: 'acme',
  objective: 'chat',
  model: 'llama',
  model_version: '2026-10-01',
  rule_version: 1,
  schema_id: 'chat/v1',
  routing_key: 'acme.llama',
});

/** Reason codes only a discovered inventory gives (the static `[[models]]` list cannot tell them). */
export const LIVE_ONLY_CODES: readonly ReasonCode[] = [
  'ADAPTER_NOT_LOADED',
  'ADAPTER_BASE_MISMATCH',
  'ADAPTER_NOT_OURS',
  'INVENTORY_UNCONFIRMED',
];
