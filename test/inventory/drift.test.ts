import { describe, expect, test } from 'bun:test';
import { DriftWatch, type ServedModel } from '../../src/inventory/index.ts';

const llama = { id: 'llama', version: '0e9e39f2', ready: true };
const ready: ServedModel = { name: 'llama', root: '/models/llama/0e9e39f2', state: 'ready' };

describe('DriftWatch', () => {
  test('what must be served and is: no drift', () => {
    expect(new DriftWatch(1000).assess([llama], [ready], 0)).toEqual([]);
    expect(
      new DriftWatch(1000).assess([{ ...llama, version: '*' }], [{ ...ready, root: '/x' }], 0),
    ).toEqual([]);
  });

  test('missing, or at another revision', () => {
    const watch = new DriftWatch(1000);
    expect(watch.assess([llama], [], 0)).toEqual([
      {
        id: 'llama',
        version: '0e9e39f2',
        problem: 'missing',
        detail: '"llama" is not loaded on the server',
      },
    ]);
    expect(watch.assess([llama], [{ ...ready, root: '/models/llama/1111' }], 0)).toEqual([
      {
        id: 'llama',
        version: '0e9e39f2',
        problem: 'other-revision',
        detail: '"llama" is loaded at revision "/models/llama/1111", not "0e9e39f2"',
      },
    ]);
    // An adapter of that name is not the base model.
    expect(watch.assess([llama], [{ ...ready, parent: 'x' }], 0)[0]?.problem).toBe('missing');
  });

  test('not ready only counts once it lasts longer than the warm-up', () => {
    const watch = new DriftWatch(30_000);
    const loading: ServedModel = { ...ready, state: 'loading', reason: 'loading weights' };
    expect(watch.assess([llama], [loading], 1_000)).toEqual([]);
    expect(watch.assess([llama], [loading], 20_000)).toEqual([]);
    expect(watch.assess([llama], [loading], 31_000)).toEqual([
      {
        id: 'llama',
        version: '0e9e39f2',
        problem: 'not-ready',
        detail: '"llama" has not been ready for 30 s: loading weights',
      },
    ]);
    // Ready again: the clock starts over next time.
    expect(watch.assess([llama], [ready], 32_000)).toEqual([]);
    expect(watch.assess([llama], [loading], 33_000)).toEqual([]);
  });
});
