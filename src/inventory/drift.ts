import { atRevision } from './judge-served.ts';
import type { LoadedModel } from './model-inventory.ts';
import type { ServedModel } from './served-model.ts';

/** How an expected model (`[[models]]`) disagrees with what the server has loaded. */
export interface DriftItem {
  readonly id: string;
  readonly version: string;
  readonly problem: 'missing' | 'other-revision' | 'not-ready';
  /** A sentence naming what the server has instead. */
  readonly detail: string;
}

/** `[[models]]` version meaning "any revision". */
export const ANY_REVISION = '*';

/**
 * Compares what a host must serve (its `[[models]]` list, with discovery on) with what the server
 * says it has loaded: an expected model that is missing, loaded at another revision, or not ready
 * for longer than `warmupMs` is drift. Keeps only when each model stopped being ready. Pure:
 * time is passed in.
 */
export class DriftWatch {
  private readonly notReadySince = new Map<string, number>();

  constructor(private readonly warmupMs: number) {}

  /** The drift at `now`, in the order of `expected`. */
  assess(
    expected: readonly LoadedModel[],
    served: readonly ServedModel[],
    now: number,
  ): DriftItem[] {
    const drift: DriftItem[] = [];
    const seen = new Set<string>();
    for (const e of expected) {
      const key = `${e.id}\u0000${e.version}`;
      seen.add(key);
      const entries = served.filter((m) => m.name === e.id && m.parent === undefined);
      if (entries.length === 0) {
        this.notReadySince.delete(key);
        drift.push({
          ...ids(e),
          problem: 'missing',
          detail: `"${e.id}" is not loaded on the server`,
        });
        continue;
      }
      const matching =
        e.version === ANY_REVISION ? entries : entries.filter((m) => atRevision(m, e.version));
      if (matching.length === 0) {
        this.notReadySince.delete(key);
        const found = entries.map((m) => m.revision ?? m.root ?? 'unknown').join('", "');
        drift.push({
          ...ids(e),
          problem: 'other-revision',
          detail: `"${e.id}" is loaded at revision "${found}", not "${e.version}"`,
        });
        continue;
      }
      if (matching.some((m) => m.state === 'ready')) {
        this.notReadySince.delete(key);
        continue;
      }
      const since = this.notReadySince.get(key) ?? now;
      this.notReadySince.set(key, since);
      if (now - since >= this.warmupMs)
        drift.push({
          ...ids(e),
          problem: 'not-ready',
          detail: `"${e.id}" has not been ready for ${Math.round((now - since) / 1000)} s${matching[0]?.reason ? `: ${matching[0].reason}` : ''}`,
        });
    }
    for (const key of [...this.notReadySince.keys()])
      if (!seen.has(key)) this.notReadySince.delete(key);
    return drift;
  }
}

function ids(e: LoadedModel): { id: string; version: string } {
  return { id: e.id, version: e.version };
}
