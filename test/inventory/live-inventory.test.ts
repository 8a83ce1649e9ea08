import { describe, expect, test } from 'bun:test';
import { LiveInventory, type ServedModel } from '../../src/inventory/index.ts';
import type { ModelRule } from '../../src/rules/index.ts';

const rule = (id: string, served?: ModelRule['served']): ModelRule => ({
  id,
  version: '1',
  routingKey: `acme.${id}`,
  cluster: 'c',
  schemaId: 's',
  ...(served ? { served } : {}),
});
const llama = rule('llama', { name: 'meta-llama/Llama-3.1-8B-Instruct', revision: '0e9e39f2' });
const support = rule('support', {
  name: 'support-v2',
  adapterOf: 'llama',
  source: '/adapters/acme/support-v2',
});
const base: ServedModel = {
  name: 'meta-llama/Llama-3.1-8B-Instruct',
  root: '/models/hub/meta-llama/Llama-3.1-8B-Instruct/snapshots/0e9e39f2',
  state: 'ready',
};
const adapter: ServedModel = {
  name: 'support-v2',
  parent: 'meta-llama/Llama-3.1-8B-Instruct',
  root: '/adapters/acme/support-v2',
  state: 'ready',
};

function live(models: ServedModel[]) {
  const inventory = new LiveInventory('vllm http://127.0.0.1:8000/v1/models');
  inventory.replace(models);
  return inventory;
}

describe('LiveInventory judges rule-set models against what the server lists', () => {
  test('before the first answer nothing is confirmed', () => {
    const inventory = new LiveInventory('vllm http://h/v1/models');
    expect(inventory.check(llama, undefined)).toEqual({
      code: 'INVENTORY_UNCONFIRMED',
      message:
        'cannot confirm that model "llama" is loaded: no answer from the model server\'s inventory (vllm http://h/v1/models) yet',
    });
  });

  test('a base model at its revision (a whole segment of the root) can serve', () => {
    expect(live([base]).check(llama, undefined)).toBeNull();
  });

  test('a revision that is only part of a segment does not count', () => {
    const other = { ...base, root: '/models/0e9e39f2-old' };
    expect(live([other]).check(llama, undefined)).toEqual({
      code: 'MODEL_VERSION_MISMATCH',
      message:
        'model "llama" is loaded at revision "/models/0e9e39f2-old" on this host, not "0e9e39f2"',
    });
  });

  test('TGI: model_sha is the revision', () => {
    const tgi = { name: base.name, root: base.name, revision: 'b70aa865', state: 'ready' as const };
    expect(live([tgi]).check(llama, undefined)?.code).toBe('MODEL_VERSION_MISMATCH');
    expect(live([{ ...tgi, revision: '0e9e39f2' }]).check(llama, undefined)).toBeNull();
  });

  test('absent, and served under another name', () => {
    expect(live([]).check(llama, undefined)).toEqual({
      code: 'MODEL_NOT_LOADED',
      message:
        'model "llama" (served as "meta-llama/Llama-3.1-8B-Instruct") is not loaded on this host',
    });
    expect(live([adapter]).check(llama, undefined)?.code).toBe('MODEL_NOT_LOADED');
  });

  test('Triton: one version ready among several is enough; only loading ones are not ready', () => {
    const m = rule('qa', { revision: '2' });
    const v1 = { name: 'qa', revision: '1', state: 'ready' as const };
    const v2 = { name: 'qa', revision: '2', state: 'loading' as const, reason: 'loading weights' };
    expect(live([v1, v2]).check(m, undefined)).toEqual({
      code: 'MODEL_NOT_READY',
      message: 'model "qa" is loading on this host: loading weights',
    });
    expect(live([v1, { ...v2, state: 'ready' }]).check(m, undefined)).toBeNull();
    expect(live([v1, v2]).check(rule('qa'), undefined)).toBeNull();
  });

  test('an adapter loaded on its base from its own source can serve', () => {
    expect(live([base, adapter]).check(support, llama)).toBeNull();
  });

  test('an adapter that is not loaded, or on another base', () => {
    expect(live([base]).check(support, llama)).toEqual({
      code: 'ADAPTER_NOT_LOADED',
      message: 'adapter "support-v2" (model "support") is not loaded on this host',
    });
    expect(live([base, { ...adapter, parent: 'qwen' }]).check(support, llama)).toEqual({
      code: 'ADAPTER_BASE_MISMATCH',
      message:
        'adapter "support-v2" (model "support") is loaded on base "qwen", not on "meta-llama/Llama-3.1-8B-Instruct"',
    });
  });

  test("another tenant's adapter of the same name is refused", () => {
    const theirs = { ...adapter, root: '/adapters/globex/support-v2' };
    expect(live([base, theirs]).check(support, llama)).toEqual({
      code: 'ADAPTER_NOT_OURS',
      message:
        'adapter "support-v2" on this host was loaded from "/adapters/globex/support-v2", not from "/adapters/acme/support-v2" (model "support"): it is another adapter of the same name',
    });
    const silent: ServedModel = { name: 'support-v2', parent: base.name, state: 'ready' };
    expect(live([base, silent]).check(support, llama)?.code).toBe('ADAPTER_NOT_OURS');
  });

  test("the adapter's base must itself be servable", () => {
    expect(live([adapter]).check(support, llama)?.code).toBe('MODEL_NOT_LOADED');
  });

  test('a change is seen at once; an identical answer is no change', () => {
    const inventory = live([base, adapter]);
    expect(inventory.check(support, llama)).toBeNull();
    expect(inventory.replace([base, adapter])).toBe(false);
    expect(inventory.replace([base])).toBe(true);
    expect(inventory.check(support, llama)?.code).toBe('ADAPTER_NOT_LOADED');
    expect(inventory.list()).toEqual([
      { id: 'meta-llama/Llama-3.1-8B-Instruct', version: base.root as string, ready: true },
    ]);
  });

  test('unconfirmed after the last good answer grew too old; confirmed again by the next', () => {
    const inventory = live([base]);
    expect(inventory.unconfirm('the inventory has failed for 30 s: timeout')).toBe(true);
    expect(inventory.check(llama, undefined)).toEqual({
      code: 'INVENTORY_UNCONFIRMED',
      message:
        'cannot confirm that model "llama" is loaded: the inventory has failed for 30 s: timeout',
    });
    expect(inventory.replace([base])).toBe(true);
    expect(inventory.check(llama, undefined)).toBeNull();
  });
});
