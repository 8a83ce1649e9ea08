import type { SaturationReport } from '../report/index.ts';

/** How saturation reports become HAProxy agent-check answers. */
export interface AgentReplyOptions {
  /**
   * The weight a busy-but-healthy replica keeps, percent (1–100): weight falls linearly from 100 %
   * at score 0 to this at score 1, so a saturated host still gets a trickle and is seen to recover.
   */
  readonly minWeightPercent: number;
  /** The most weight a WARMING replica gets, percent (slow start). */
  readonly warmingWeightPercent: number;
  /** `maxconn:` sent with every answer that keeps the server up (0: none). */
  readonly maxConnections: number;
}

/** Defaults: a 10 % floor, slow start at half weight, no maxconn. */
export const DEFAULT_AGENT_REPLY: AgentReplyOptions = Object.freeze({
  minWeightPercent: 10,
  warmingWeightPercent: 50,
  maxConnections: 0,
});

/**
 * The one line an HAProxy agent-check reads (HAProxy configuration manual, 5.2 `agent-check`):
 *
 * - READY, SATURATED: `up ready W%` — W = floor + (100 − floor)·(1 − score), rounded, so weight falls
 *   as the score rises and never below the floor (`ready` ends a drain or maintenance the agent set);
 * - WARMING: the same, at most `warmingWeightPercent` (slow start; draining it would starve the
 *   warm-up of the very requests it needs);
 * - DRAINING: `drain` (weight 0: no new connections, those open finish);
 * - COLD, UNHEALTHY, STALE_RULES, OFFLINE: `down #STATE: why` (HAProxy shows the text after `#`);
 * - no report yet: `down #starting`.
 *
 * `maxconn:N` is added to every answer that keeps the server up. Pure.
 */
export function agentReply(
  report: SaturationReport | null,
  options: AgentReplyOptions = DEFAULT_AGENT_REPLY,
): string {
  if (report === null) return 'down #starting: no saturation report yet\n';
  const maxconn = options.maxConnections > 0 ? ` maxconn:${options.maxConnections}` : '';
  switch (report.state) {
    case 'READY':
    case 'SATURATED':
      return `up ready ${weight(report.score, options)}%${maxconn}\n`;
    case 'WARMING':
      return `up ready ${Math.min(weight(report.score, options), clamp(options.warmingWeightPercent))}%${maxconn}\n`;
    case 'DRAINING':
      return `drain${maxconn}\n`;
    default:
      return `down #${report.state}: ${why(report)}\n`;
  }
}

/** The weight for `score`, percent: linear from 100 at score 0 down to the floor at score 1. */
export function weight(score: number, options: AgentReplyOptions): number {
  const floor = clamp(options.minWeightPercent);
  const s = Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 1;
  return Math.max(floor, Math.round(floor + (100 - floor) * (1 - s)));
}

function clamp(percent: number): number {
  return Math.min(100, Math.max(1, Math.round(percent)));
}

function why(report: SaturationReport): string {
  switch (report.state) {
    case 'COLD':
      return 'the model server is not ready (model not loaded or loading)';
    case 'STALE_RULES':
      return "this host's rules are behind the stream or too old";
    case 'UNHEALTHY':
      return report.drift && report.drift.length > 0
        ? `the server does not have what it must serve (${report.drift.join(', ')})`
        : 'the model server does not answer its health probe';
    default:
      return 'the sidecar is going away';
  }
}
