import { type CarrierResult, readObjectiveHeader } from '../request-carrier/index.ts';
import type { ObjectiveConfig } from '../validation/index.ts';

/** Reads a Filament-Objective header as a server got it ({@linkcode readObjectiveHeader}'s shape). */
export type ObjectiveHeaderReader = (
  value: string | readonly string[] | undefined,
) => CarrierResult<ObjectiveConfig>;

/** How many distinct header values a memo keeps by default: a host sees a handful of objectives. */
export const HEADER_MEMO_SIZE = 256;

/**
 * {@linkcode readObjectiveHeader} that remembers the last `capacity` distinct values it read well
 * (the oldest forgotten first), so the same header — every request of one objective carries the
 * same one — is decoded once. Only readable values are kept (a refusal is cheap, and hostile
 * junk must not push good values out for long); what is remembered is frozen, as it is shared
 * by every request that carries it. Same answers as the plain reader; no I/O.
 */
export function memoizedHeaderReader(capacity = HEADER_MEMO_SIZE): ObjectiveHeaderReader {
  const memo = new Map<string, CarrierResult<ObjectiveConfig>>();
  return (value) => {
    if (typeof value !== 'string') return readObjectiveHeader(value);
    const known = memo.get(value);
    if (known !== undefined) return known;
    const read = readObjectiveHeader(value);
    if (!read.ok) return read;
    const kept = Object.freeze({ ok: true as const, value: Object.freeze(read.value) });
    if (memo.size >= capacity) memo.delete(memo.keys().next().value as string);
    memo.set(value, kept);
    return kept;
  };
}
