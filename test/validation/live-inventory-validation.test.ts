import { describe, expect, test } from 'bun:test';
import { LiveInventory } from '../../src/inventory/index.ts';
import { RuleApplier, type RuleSet, RuleStore } from '../../src/rules/index.ts';
import { type ReasonCode, RequestValidator } from '../../src/validation/index.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { LIVE_ONLY_CODES } from '../helpers/validation-fixture.ts';

function setup() {
  const store = new RuleStore(3);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 1 << 20, maxDepth: 32 },
    now: () => Date.parse('2026-12-01T00:00:00Z'),
  });
  const model = (id: string, served: Record<string, string>) => ({
    id,
    version: '1',
    routingKey: `acme.${id}`,
    cluster: 'gpu-east',
    schemaId: 'chat/v1',
    served,
  });
  const rules: RuleSet = {
    tenant: 'acme',
    version: 1,
    issuedAt: '2026-12-01T00:00:00Z',
    schemas: [{ id: 'chat/v1', schema: true }],
    models: [
      model('llama', { name: 'meta-llama/Llama-3.1-8B-Instruct', revision: '0e9e39f2' }),
      model('support', { name: 'support-v2', adapterOf: 'llama', source: '/adapters/acme/s2' }),
    ],
    objectives: [{ id: 'chat', defaultModel: 'llama', fallback: ['support'] }],
  };
  const outcome = applier.apply({ tenant: 'acme', bytes: jsonBytes(rules) });
  if (outcome.status !== 'applied') throw new Error(JSON.stringify(outcome));
  const inventory = new LiveInventory('vllm http://127.0.0.1:8000/v1/models');
  const validator = new RequestValidator({
    store,
    models: inventory,
    cluster: 'gpu-east',
    payloadLimits: { maxBytes: 1 << 20, maxDepth: 32 },
  });
  const ask = (model: 'llama' | 'support') =>
    validator.validate({
      tenant: 'acme',
      objective: 'chat',
      model,
      modelVersion: '1',
      ruleVersion: 1,
      schemaId: 'chat/v1',
      routingKey: `acme.${model}`,
    });
  return { inventory, ask };
}

const base = {
  name: 'meta-llama/Llama-3.1-8B-Instruct',
  root: '/models/Llama-3.1-8B-Instruct@0e9e39f2',
  state: 'ready' as const,
};
const adapter = {
  name: 'support-v2',
  parent: base.name,
  root: '/adapters/acme/s2',
  state: 'ready' as const,
};

describe('RequestValidator with what the model server has actually loaded', () => {
  test('every code only a live inventory gives is reached, each with its field', () => {
    const { inventory, ask } = setup();
    const reached = new Set<ReasonCode>();
    const expectCode = (model: 'llama' | 'support', code: ReasonCode, field: string) => {
      const verdict = ask(model);
      expect(verdict).toMatchObject({ ok: false, code, field });
      reached.add(code);
    };
    expectCode('llama', 'INVENTORY_UNCONFIRMED', 'model');
    inventory.replace([base, adapter]);
    expect(ask('llama')).toMatchObject({ ok: true, role: 'default' });
    expect(ask('support')).toMatchObject({ ok: true, role: 'fallback' });
    inventory.replace([base]);
    expectCode('support', 'ADAPTER_NOT_LOADED', 'model');
    inventory.replace([base, { ...adapter, parent: 'qwen' }]);
    expectCode('support', 'ADAPTER_BASE_MISMATCH', 'model');
    inventory.replace([base, { ...adapter, root: '/adapters/globex/s2' }]);
    expectCode('support', 'ADAPTER_NOT_OURS', 'model');
    inventory.replace([{ ...base, root: '/models/Llama-3.1-8B-Instruct@1111' }, adapter]);
    expectCode('llama', 'MODEL_VERSION_MISMATCH', 'modelVersion');
    inventory.replace([]);
    expectCode('llama', 'MODEL_NOT_LOADED', 'model');
    inventory.replace([{ ...base, state: 'loading' }]);
    expectCode('llama', 'MODEL_NOT_READY', 'model');
    for (const code of LIVE_ONLY_CODES) expect(reached.has(code)).toBe(true);
  });
});
