import type { Config } from '../config/index.ts';
import type { SidecarMetrics } from '../metrics/index.ts';
import type { CheckAnswer, CheckSettings, CheckTally } from '../request-check/index.ts';

/** How the request-path check judges, from `[check]` and `[validation]`: for both of its faces. */
export function checkSettings(c: Config): CheckSettings {
  return {
    require: c.check.require,
    bodyField: c.check.bodyField,
    elsewhereStatus: c.check.elsewhereStatus,
    payloadLimits: {
      maxBytes: c.validation.maxPayloadBytes,
      maxDepth: c.validation.maxPayloadDepth,
    },
  };
}

/**
 * Counts an answer of the request-path check (HTTP endpoint or ext_authz) with bounded labels:
 * verdicts and codes are fixed sets; a tenant this host does not follow is "other" (a client
 * names any string it likes), none read is "none".
 */
export function countCheckAnswer(
  c: Config,
  metrics: SidecarMetrics,
  tally: CheckTally,
  now: () => number = Date.now,
) {
  return (answer: CheckAnswer): void => {
    tally.record(answer, now());
    const tenant =
      answer.tenant === undefined
        ? 'none'
        : c.rules.tenants.includes(answer.tenant)
          ? answer.tenant
          : 'other';
    metrics.checkAnswers.inc({
      verdict: answer.headers['filament-verdict'] ?? 'error',
      reason: answer.headers['filament-reason'] ?? '',
      tenant,
    });
  };
}
