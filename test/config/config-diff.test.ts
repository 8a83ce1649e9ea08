import { describe, expect, test } from 'bun:test';
import { configDifferences } from '../../src/config/index.ts';

describe('configDifferences', () => {
  test('names changed leaves by dotted path; arrays compare whole', () => {
    const before = { log: { level: 'info' }, broker: { urls: ['a'], keepalive: 30 }, models: [] };
    const after = {
      log: { level: 'debug' },
      broker: { urls: ['a'], keepalive: 30 },
      models: [{ id: 'm' }],
    };
    expect(configDifferences(before, after)).toEqual(['log.level', 'models']);
  });

  test('reports keys present on one side only, and nothing for equal configs', () => {
    expect(configDifferences({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toEqual(['a.c']);
    expect(configDifferences({ a: { b: [1, 2] } }, { a: { b: [1, 2] } })).toEqual([]);
  });
});
