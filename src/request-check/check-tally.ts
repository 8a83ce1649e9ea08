import type { CheckAnswer } from './check-answer.ts';

/** How many requests the check answered since start, by verdict and by reason code. */
export interface CheckCounts {
  readonly answered: number;
  readonly byVerdict: Readonly<Record<string, number>>;
  readonly byReason: Readonly<Record<string, number>>;
}

/**
 * Counts the request-path check's answers (HTTP endpoint and ext_authz alike) for
 * `filament status`. Bounded: verdicts and reason codes are fixed sets. Pure.
 */
export class CheckTally {
  private answered = 0;
  private readonly byVerdict = new Map<string, number>();
  private readonly byReason = new Map<string, number>();

  /** Counts one answer. */
  record(answer: CheckAnswer): void {
    this.answered++;
    const verdict = answer.headers['filament-verdict'] ?? 'error';
    this.byVerdict.set(verdict, (this.byVerdict.get(verdict) ?? 0) + 1);
    const reason = answer.headers['filament-reason'];
    if (reason !== undefined) this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
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
