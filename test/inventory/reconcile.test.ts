import { describe, expect, test } from 'bun:test';
import {
  describeServability,
  LiveInventory,
  reconcile,
  StaticModelInventory,
} from '../../src/inventory/index.ts';
import { RuleApplier, type RuleSet, RuleStore } from '../../src/rules/index.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';

function compiled(rules: RuleSet) {
  const store = new RuleStore(2);
  const applier = new RuleApplier(store, {
    limits: { maxBytes: 1 << 24, maxDepth: 32 },
    now: () => Date.parse('2026-12-01T00:00:00Z'),
  });
  const outcome = applier.apply({ tenant: rules.tenant, bytes: jsonBytes(rules) });
  if (outcome.status !== 'applied') throw new Error(JSON.stringify(outcome));
  return outcome.rules;
}

const model = (id: string, cluster = 'gpu-east', served?: Record<string, string>) => ({
  id,
  version: '1',
  routingKey: `acme.${id}`,
  cluster,
  schemaId: 's',
  ...(served ? { served } : {}),
});
const rules = compiled({
  tenant: 'acme',
  version: 7,
  issuedAt: '2026-12-01T00:00:00Z',
  schemas: [{ id: 's', schema: true }],
  models: [
    model('llama'),
    model('qwen'),
    model('support', 'gpu-east', { adapterOf: 'llama', source: '/a/acme/support' }),
    model('far', 'gpu-west'),
  ],
  objectives: [
    { id: 'chat', defaultModel: 'llama', fallback: ['qwen'] },
    { id: 'help', defaultModel: 'support' },
    { id: 'west', defaultModel: 'far' },
    { id: 'mixed', defaultModel: 'far', fallback: ['llama'] },
  ],
} as RuleSet);

describe('reconcile', () => {
  test('everything loaded: every objective routed here can be served', () => {
    const inventory = new LiveInventory('test');
    inventory.replace([
      { name: 'llama', state: 'ready' },
      { name: 'qwen', state: 'ready' },
      { name: 'support', parent: 'llama', root: '/a/acme/support', state: 'ready' },
    ]);
    const s = reconcile('acme', rules, 'gpu-east', inventory);
    expect(s).toEqual({
      tenant: 'acme',
      version: 7,
      objectives: 3,
      unservableObjectives: [],
      servableKeys: ['acme.llama', 'acme.qwen', 'acme.support'],
      servableModels: ['llama', 'qwen', 'support'],
      unservableKeys: [],
    });
    expect(describeServability(s)).toBe('all 3 objectives can be served here');
  });

  test('what is missing names the objectives it breaks and why', () => {
    const inventory = new LiveInventory('test');
    inventory.replace([{ name: 'llama', state: 'ready' }]);
    const s = reconcile('acme', rules, 'gpu-east', inventory);
    expect(s.unservableObjectives).toEqual(['chat', 'help']);
    expect(s.servableKeys).toEqual(['acme.llama']);
    expect(s.unservableKeys).toEqual([
      {
        routingKey: 'acme.qwen',
        model: 'qwen',
        code: 'MODEL_NOT_LOADED',
        reason: 'model "qwen" is not loaded on this host',
      },
      {
        routingKey: 'acme.support',
        model: 'support',
        code: 'ADAPTER_NOT_LOADED',
        reason: 'adapter "support" (model "support") is not loaded on this host',
      },
    ]);
    expect(describeServability(s, 1)).toBe(
      '2 of 3 objectives cannot be served here: MODEL_NOT_LOADED: model "qwen" is not loaded on this host; and 1 more',
    );
  });

  test('the static [[models]] list is reconciled the same way', () => {
    const s = reconcile(
      'acme',
      rules,
      'gpu-west',
      new StaticModelInventory([{ id: 'far', version: '1', ready: false }]),
    );
    expect(s).toMatchObject({
      objectives: 2,
      unservableObjectives: ['west', 'mixed'],
      unservableKeys: [{ routingKey: 'acme.far', code: 'MODEL_NOT_READY' }],
    });
  });
});
