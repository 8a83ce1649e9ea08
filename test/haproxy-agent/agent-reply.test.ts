import { describe, expect, test } from 'bun:test';
import { agentReply, DEFAULT_AGENT_REPLY, weight } from '../../src/haproxy-agent/index.ts';
import type { ReplicaState, SaturationReport } from '../../src/report/index.ts';

const report = (
  state: ReplicaState,
  score = 0,
  extra: Partial<SaturationReport> = {},
): SaturationReport => ({
  replica: 'r1',
  cluster: 'gpu-east',
  state,
  score,
  seq: 1,
  at: 0,
  ...extra,
});
const opts = { ...DEFAULT_AGENT_REPLY, maxConnections: 64 };

describe('agentReply', () => {
  test('READY and SATURATED: weight falls with the score, never below the floor', () => {
    expect(agentReply(report('READY', 0), opts)).toBe('up ready 100% maxconn:64\n');
    expect(agentReply(report('READY', 0.5), opts)).toBe('up ready 55% maxconn:64\n');
    expect(agentReply(report('SATURATED', 0.95), opts)).toBe('up ready 15% maxconn:64\n');
    expect(agentReply(report('SATURATED', 1), opts)).toBe('up ready 10% maxconn:64\n');
    expect(agentReply(report('SATURATED', 1), { ...opts, maxConnections: 0 })).toBe(
      'up ready 10%\n',
    );
  });

  test('a saturated host gets at most a third of an idle one', () => {
    expect(weight(0.85, DEFAULT_AGENT_REPLY) / weight(0, DEFAULT_AGENT_REPLY)).toBeLessThanOrEqual(
      1 / 3,
    );
  });

  test('WARMING is capped for slow start; DRAINING drains; the rest are down with why', () => {
    expect(agentReply(report('WARMING', 0), opts)).toBe('up ready 50% maxconn:64\n');
    expect(agentReply(report('WARMING', 0.9), opts)).toBe('up ready 19% maxconn:64\n');
    expect(agentReply(report('DRAINING', 0.2), opts)).toBe('drain maxconn:64\n');
    expect(agentReply(report('COLD'), opts)).toBe(
      'down #COLD: the model server is not ready (model not loaded or loading)\n',
    );
    expect(agentReply(report('STALE_RULES'), opts)).toBe(
      "down #STALE_RULES: this host's rules are behind the stream or too old\n",
    );
    expect(agentReply(report('UNHEALTHY', 0, { drift: ['llama'] }), opts)).toBe(
      'down #UNHEALTHY: the server does not have what it must serve (llama)\n',
    );
    expect(agentReply(report('OFFLINE'), opts)).toBe('down #OFFLINE: the sidecar is going away\n');
    expect(agentReply(null, opts)).toBe('down #starting: no saturation report yet\n');
  });

  test('nonsense scores and settings stay within what HAProxy accepts', () => {
    expect(agentReply(report('READY', Number.NaN), opts)).toBe('up ready 10% maxconn:64\n');
    expect(agentReply(report('READY', -3), { ...opts, minWeightPercent: 500 })).toBe(
      'up ready 100% maxconn:64\n',
    );
    expect(agentReply(report('READY', 1), { ...opts, minWeightPercent: 0 })).toBe(
      'up ready 1% maxconn:64\n',
    );
  });
});
