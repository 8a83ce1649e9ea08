import type { CheckAnswer } from './check-answer.ts';
import { RefusalWindow } from './refusal-window.ts';

/** How many requests the check answered since start, by verdict and by reason code. */
export interface CheckCounts {
  readonly answered: number;
  readonly byVerdict: Readonly<Record<string, number>>;
  readonly byReason: Readonly<Record<string, number>>;
}

/**
 * Counts the request-path check's answers (HTTP endpoint and ext_authz alike) for
 * `filament status`, and the keys refused "elsewhere" in the last minute for saturation reports.
 * Bounded: verdicts and reason codes are fixed sets, keys capped. Pure.
 */
export class CheckTally {
  private answered = 0;
  private readonly byVerdict = new Map<string, number>();
  private readonly byReason = new Map<string, number>();
  private readonly window = new RefusalWindow();

  /** Counts one answer, given at `now` (ms since the epoch). */
  record(answer: CheckAnswer, now: number): void {
    this.answered++;
    this.window.record(answer, now);
    const verdict = answer.headers['filament-verdict'] ?? 'error';
    this.byVerdict.set(verdict, (this.byVerdict.get(verdict) ?? 0) + 1);
    const reason = answer.headers['filament-reason'];
    if (reason !== undefined) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
  }

  /** The routing keys refused as "elsewhere" in the last minute (for saturation reports). */
  refusedKeys(now: number): Array<{ tenant: string; routingKey: string; count: number }> {
    return this.window.top(now);
  }

  /** The counts so far. */
  counts(): CheckCounts {
    return {
      answered: this.answered,
      byVerdict: Object.fromEntries(this.byVerdict),
      byReason: Object.fromEntries(this.byReason),
    };
  }
}
