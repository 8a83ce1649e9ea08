import { describe, expect, test } from 'bun:test';
import { PublishPolicy } from '../../src/saturation/index.ts';

describe('PublishPolicy', () => {
  const policy = () => new PublishPolicy({ heartbeatMs: 1000, minGapMs: 50, scoreStep: 0.1 });

  test('publishes the first report, then state changes and large score moves at once', () => {
    const p = policy();
    expect(p.due('READY', 0.2, 0)).toBe(true);
    p.published('READY', 0.2, 0);
    expect(p.due('READY', 0.25, 100)).toBe(false);
    expect(p.due('READY', 0.31, 100)).toBe(true);
    expect(p.due('SATURATED', 0.2, 100)).toBe(true);
  });

  test('never publishes twice within the minimum gap, however much changes', () => {
    const p = policy();
    p.published('READY', 0.2, 0);
    expect(p.due('SATURATED', 1, 49)).toBe(false);
    expect(p.due('SATURATED', 1, 50)).toBe(true);
  });

  test('sends a heartbeat when nothing changes', () => {
    const p = policy();
    p.published('READY', 0.2, 0);
    expect(p.due('READY', 0.2, 999)).toBe(false);
    expect(p.due('READY', 0.2, 1000)).toBe(true);
    expect(p.nextHeartbeat()).toBe(1000);
  });
});
