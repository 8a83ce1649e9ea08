import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

const MAGIC = 'filament-delta 1 ';

/** One delta kept in a tenant's journal: the message as it arrived, and the versions it joins. */
export interface JournalEntry {
  readonly version: number;
  readonly base: number;
  /** The bytes are a signed envelope around the delta. */
  readonly envelope: boolean;
  readonly bytes: Uint8Array;
}

/**
 * One journal frame: a line `filament-delta 1 {"version","base","envelope","length","sha256"}`,
 * the delta's bytes, and a newline. Frames are appended, so a crash can only tear the last one,
 * which the checksum then shows.
 */
export function encodeJournalEntry(entry: JournalEntry): Uint8Array {
  const head = JSON.stringify({
    version: entry.version,
    base: entry.base,
    envelope: entry.envelope,
    length: entry.bytes.byteLength,
    sha256: sha256Hex(entry.bytes),
  });
  return Buffer.concat([Buffer.from(`${MAGIC}${head}\n`), entry.bytes, Buffer.from('\n')]);
}

/**
 * The journal's deltas that continue version `from` one after another (each on the version the
 * one before made), up to the first frame that is torn, corrupt or off the chain — which is
 * named in `problem` (a torn last frame is what a crash during an append leaves).
 */
export function decodeJournal(
  data: Uint8Array,
  from: number,
): { readonly entries: readonly JournalEntry[]; readonly problem?: string } {
  const entries: JournalEntry[] = [];
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  let version = from;
  while (at < buffer.byteLength) {
    const stop = (why: string) => ({ entries, problem: `frame ${entries.length + 1}: ${why}` });
    const end = buffer.indexOf(0x0a, at);
    if (end < 0 || !buffer.subarray(at, at + MAGIC.length).equals(Buffer.from(MAGIC)))
      return stop('not a journal frame (torn or corrupt)');
    let head: Record<string, unknown>;
    try {
      head = JSON.parse(buffer.toString('utf8', at + MAGIC.length, end));
    } catch {
      return stop('its header is not JSON (torn or corrupt)');
    }
    const length = head.length as number;
    const bytes = buffer.subarray(end + 1, end + 1 + length);
    if (
      !Number.isSafeInteger(length) ||
      bytes.byteLength !== length ||
      buffer[end + 1 + length] !== 0x0a
    )
      return stop('truncated (a crash while it was written)');
    if (sha256Hex(bytes) !== head.sha256) return stop('checksum mismatch');
    if (head.base !== version || !Number.isSafeInteger(head.version))
      return stop(`applies to version ${String(head.base)}, not ${version}`);
    entries.push({
      version: head.version as number,
      base: version,
      envelope: head.envelope === true,
      bytes: new Uint8Array(bytes),
    });
    version = head.version as number;
    at = end + 2 + length;
  }
  return { entries };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
