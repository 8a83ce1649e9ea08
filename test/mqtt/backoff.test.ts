import { describe, expect, test } from 'bun:test';
import {
  ackTopic,
  Backoff,
  rulesTopic,
  tenantOfRulesTopic,
  topicMatches,
} from '../../src/mqtt/index.ts';

describe('Backoff', () => {
  const options = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.5 };

  test('grows exponentially up to the cap when there is no jitter', () => {
    const backoff = new Backoff({ ...options, jitter: 0 });
    expect(Array.from({ length: 6 }, () => backoff.next())).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  test('takes at most the jitter fraction off each delay', () => {
    const low = new Backoff(options, () => 0.999999);
    const high = new Backoff(options, () => 0);
    expect([low.next(), low.next(), low.next()]).toEqual([50, 100, 200]);
    expect([high.next(), high.next(), high.next()]).toEqual([100, 200, 400]);
  });

  test('spreads a fleet that failed at the same moment', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = new Set(Array.from({ length: 50 }, () => new Backoff(options, random).next()));
    expect(delays.size).toBeGreaterThan(20);
  });

  test('starts over after reset', () => {
    const backoff = new Backoff({ ...options, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});

describe('topics', () => {
  test('build and parse rule and ack topics under a prefix', () => {
    expect(rulesTopic('filament/v1', 'acme')).toBe('filament/v1/rules/acme');
    expect(ackTopic('p', 'acme', 'host-1')).toBe('p/acks/acme/host-1');
    expect(tenantOfRulesTopic('filament/v1', 'filament/v1/rules/acme')).toBe('acme');
    expect(tenantOfRulesTopic('filament/v1', 'filament/v1/rules/a/b')).toBeUndefined();
    expect(tenantOfRulesTopic('filament/v1', 'other/rules/acme')).toBeUndefined();
  });

  test('match wildcard filters as MQTT does', () => {
    expect(topicMatches('p/replicas/#', 'p/replicas/c/r')).toBe(true);
    expect(topicMatches('p/replicas/+/r', 'p/replicas/c/r')).toBe(true);
    expect(topicMatches('p/replicas/+', 'p/replicas/c/r')).toBe(false);
    expect(topicMatches('p/replicas/c/r', 'p/replicas/c/r')).toBe(true);
    expect(topicMatches('p/acks/#', 'p/replicas/c')).toBe(false);
  });
});
