import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

const MAGIC = 'filament-state 1\n';

/** What a state file remembers about one applied rule set besides its bytes. */
export interface StateHeader {
  readonly tenant: string;
  readonly version: number;
  readonly encoding: 'json' | 'msgpack';
  /** ISO time the set was applied. */
  readonly appliedAt: string;
  /** The bytes are a signed envelope around a rule set of `encoding` (re-verified on restore). */
  readonly envelope?: boolean;
  /** The topic prefix of the stream it came from (absent in files written before 0.1.0's lock). */
  readonly topicPrefix?: string;
  /** The trust root it was accepted under: sorted trusted key ids and threshold, or `none`. */
  readonly trust?: string;
  /**
   * Set when the rule bytes are a complete set a delta made, followed by that delta as it arrived
   * (`envelope`: signed), which vouches for the set on restore: its length.
   */
  readonly attestation?: { readonly length: number; readonly envelope: boolean };
  /** Length of the bytes that follow the header (the rule bytes, then any attestation). */
  readonly length: number;
  /** Hex SHA-256 of the rule bytes. */
  readonly sha256: string;
}

/** A decoded state file: header plus the exact rule bytes that were applied. */
export interface StateRecord {
  readonly header: StateHeader;
  readonly bytes: Uint8Array;
  /** The delta that vouches for `bytes` (see {@linkcode StateHeader.attestation}). */
  readonly attestation?: Uint8Array;
}

/**
 * Serialises a state record: a magic line, one JSON header line, then the raw rule bytes.
 * The header carries the length and SHA-256 of the bytes so truncation and corruption show.
 */
export function encodeStateRecord(
  header: Omit<StateHeader, 'length' | 'sha256'>,
  rules: Uint8Array,
  attestation?: Uint8Array,
): Uint8Array {
  const bytes = attestation === undefined ? rules : Buffer.concat([rules, attestation]);
  const full: StateHeader = { ...header, length: bytes.byteLength, sha256: sha256Hex(bytes) };
  const head = new TextEncoder().encode(`${MAGIC}${JSON.stringify(full)}\n`);
  const out = new Uint8Array(head.byteLength + bytes.byteLength);
  out.set(head, 0);
  out.set(bytes, head.byteLength);
  return out;
}

/** Parses a state file, or returns the reason it is unusable (truncated, corrupt, foreign). */
export function decodeStateRecord(data: Uint8Array): StateRecord | { error: string } {
  const magic = new TextEncoder().encode(MAGIC);
  if (data.byteLength < magic.byteLength || !magic.every((b, i) => data[i] === b))
    return { error: 'not a filament state file (bad magic line)' };
  const end = data.indexOf(0x0a, magic.byteLength);
  if (end < 0) return { error: 'header line is truncated' };
  let header: StateHeader;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(magic.byteLength, end)),
    ) as StateHeader;
  } catch (error) {
    return { error: `header is not valid JSON: ${(error as Error).message}` };
  }
  if (
    typeof header?.version !== 'number' ||
    typeof header.tenant !== 'string' ||
    typeof header.length !== 'number'
  ) {
    return { error: 'header lacks tenant, version or length' };
  }
  const bytes = data.subarray(end + 1);
  if (bytes.byteLength !== header.length)
    return {
      error: `expected ${header.length} rule bytes, found ${bytes.byteLength} (truncated?)`,
    };
  if (sha256Hex(bytes) !== header.sha256)
    return { error: 'checksum mismatch: the rule bytes are corrupt' };
  const vouching = header.attestation?.length;
  if (vouching === undefined) return { header, bytes };
  if (!Number.isSafeInteger(vouching) || vouching <= 0 || vouching >= bytes.byteLength)
    return { error: `attestation length ${vouching} does not fit ${bytes.byteLength} bytes` };
  const split = bytes.byteLength - vouching;
  return { header, bytes: bytes.subarray(0, split), attestation: bytes.subarray(split) };
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
