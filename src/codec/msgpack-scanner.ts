import { type DecodeErrorKind, type DecodeResult, decodeFailure } from './decode-result.ts';
import { joinPointer } from './json-pointer.ts';

/**
 * A structural pass over MessagePack bytes that runs before any decoder sees them. It refuses
 * what a plain-data decoder must never act on: extension types (msgpackr would build Errors,
 * RegExps, Sets, typed arrays or mutate record state from them), the reserved byte 0xc1,
 * non-string map keys, forbidden keys, strings that are not well-formed UTF-8 (a lone surrogate
 * encoded, say: no canonical form and no digest exist for it), integers beyond ±(2^53−1), nesting
 * deeper than the cap,
 * lengths that run past the end, and trailing bytes after the one top-level value.
 * Recursion is bounded by `maxDepth`; the pass allocates nothing unless it fails.
 */
export function scanMsgpack(bytes: Uint8Array, maxDepth: number): DecodeResult | null {
  const scanner = new Scanner(bytes, maxDepth);
  try {
    scanner.value(1);
  } catch (error) {
    if (error instanceof ScanError)
      return decodeFailure(error.kind, scanner.pathTo(error.depth), error.message);
    throw error;
  }
  if (scanner.pos !== bytes.byteLength) {
    return decodeFailure(
      'MALFORMED',
      '',
      `${bytes.byteLength - scanner.pos} trailing bytes after the top-level value`,
    );
  }
  return null;
}

class ScanError extends Error {
  constructor(
    readonly kind: DecodeErrorKind,
    message: string,
    /** Depth of the container whose entry failed; its own entry is part of the path. */
    readonly depth: number,
  ) {
    super(message);
  }
}

const FORBIDDEN_KEY_BYTES = ['__proto__', 'constructor', 'prototype'].map((k) =>
  new TextEncoder().encode(k),
);
const keyText = new TextDecoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

class Scanner {
  pos = 0;
  // The path to the current value, one slot per depth: an array index, or a key's byte range.
  private readonly index: Int32Array;
  private readonly keyStart: Int32Array;
  private readonly keyLength: Int32Array;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
  ) {
    this.index = new Int32Array(maxDepth + 2);
    this.keyStart = new Int32Array(maxDepth + 2).fill(-1);
    this.keyLength = new Int32Array(maxDepth + 2);
  }

  /** The JSON pointer of the entry being read at `depth` (inclusive). */
  pathTo(depth: number): string {
    let path = '';
    for (let d = 1; d <= depth && d <= this.maxDepth + 1; d++) {
      const start = this.keyStart[d] as number;
      if (start === -2) break;
      path =
        start >= 0
          ? joinPointer(path, this.key(start, this.keyLength[d] as number))
          : joinPointer(path, this.index[d] as number);
    }
    return path;
  }

  value(depth: number): void {
    const b = this.u8(depth);
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3 && b !== 0xc1)) return;
    if (b >= 0xa0 && b <= 0xbf) this.str(b & 0x1f, depth);
    else if (b === 0xd9) this.str(this.u8(depth), depth);
    else if (b === 0xda) this.str(this.u16(depth), depth);
    else if (b === 0xdb) this.str(this.u32(depth), depth);
    else if (b >= 0x80 && b <= 0x8f) this.map(b & 0x0f, depth);
    else if (b >= 0x90 && b <= 0x9f) this.array(b & 0x0f, depth);
    else if (b === 0xcf || b === 0xd3) this.int64(b === 0xd3, depth);
    else if (b === 0xdc || b === 0xdd)
      this.array(b === 0xdc ? this.u16(depth) : this.u32(depth), depth);
    else if (b === 0xde || b === 0xdf)
      this.map(b === 0xde ? this.u16(depth) : this.u32(depth), depth);
    else if (b === 0xc1)
      throw new ScanError('MALFORMED', `reserved byte 0xc1 at offset ${this.pos - 1}`, depth - 1);
    else this.skip(this.scalarLength(b, depth), depth);
  }

  /** Bytes that follow the type byte of a bin, str, float or fixed-width integer. */
  private scalarLength(b: number, depth: number): number {
    switch (b) {
      case 0xc4:
        return this.u8(depth);
      case 0xc5:
        return this.u16(depth);
      case 0xc6:
        return this.u32(depth);
      case 0xcc:
      case 0xd0:
        return 1;
      case 0xcd:
      case 0xd1:
        return 2;
      case 0xca:
      case 0xce:
      case 0xd2:
        return 4;
      case 0xcb:
        return 8;
      default:
        throw new ScanError(
          'EXTENSION_TYPE',
          `MessagePack extension type (0x${b.toString(16)}) is not accepted`,
          depth - 1,
        );
    }
  }

  private array(count: number, depth: number): void {
    this.nest(depth);
    // Every element takes at least one byte, so a count past the end is a lie we can see now.
    if (count > this.bytes.byteLength - this.pos) throw this.truncated(depth - 1);
    this.keyStart[depth] = -1;
    for (let i = 0; i < count; i++) {
      this.index[depth] = i;
      this.value(depth + 1);
    }
    this.keyStart[depth] = -2;
  }

  private map(count: number, depth: number): void {
    this.nest(depth);
    if (count * 2 > this.bytes.byteLength - this.pos) throw this.truncated(depth - 1);
    for (let i = 0; i < count; i++) {
      this.readKey(depth);
      this.value(depth + 1);
    }
    this.keyStart[depth] = -2;
  }

  private readKey(depth: number): void {
    const b = this.u8(depth);
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) length = b & 0x1f;
    else if (b === 0xd9) length = this.u8(depth);
    else if (b === 0xda) length = this.u16(depth);
    else if (b === 0xdb) length = this.u32(depth);
    else
      throw new ScanError(
        'MALFORMED',
        `map key at offset ${this.pos - 1} is not a string`,
        depth - 1,
      );
    const start = this.pos;
    this.str(length, depth);
    this.keyStart[depth] = start;
    this.keyLength[depth] = length;
    if (length === 9 || length === 11) {
      for (const forbidden of FORBIDDEN_KEY_BYTES)
        if (this.matches(start, length, forbidden)) {
          throw new ScanError(
            'FORBIDDEN_KEY',
            `key "${keyText.decode(forbidden)}" is not allowed`,
            depth,
          );
        }
    }
  }

  /** A str of `length` bytes at `pos`: it must be well-formed UTF-8 (no encoded surrogates). */
  private str(length: number, depth: number): void {
    this.need(length, depth);
    const { bytes, pos } = this;
    const end = pos + length;
    let i = pos;
    while (i < end && (bytes[i] as number) < 0x80) i++;
    if (i < end) {
      try {
        strictUtf8.decode(bytes.subarray(i, end));
      } catch {
        throw new ScanError(
          'ILL_FORMED_STRING',
          `string at offset ${pos} is not well-formed UTF-8 (e.g. a lone surrogate)`,
          depth - 1,
        );
      }
    }
    this.pos = end;
  }

  private matches(start: number, length: number, candidate: Uint8Array): boolean {
    if (candidate.length !== length) return false;
    for (let i = 0; i < length; i++) if (this.bytes[start + i] !== candidate[i]) return false;
    return true;
  }

  private key(start: number, length: number): string {
    return keyText.decode(this.bytes.subarray(start, start + length));
  }

  private int64(signed: boolean, depth: number): void {
    this.need(8, depth);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    const value = signed ? view.getBigInt64(0) : view.getBigUint64(0);
    this.pos += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ScanError(
        'UNSAFE_INTEGER',
        `integer ${value} is beyond ±(2^53−1) and would lose precision`,
        depth - 1,
      );
    }
  }

  private nest(depth: number): void {
    if (depth > this.maxDepth)
      throw new ScanError('TOO_DEEP', `nesting deeper than ${this.maxDepth} levels`, depth - 1);
  }

  private u8(depth: number): number {
    this.need(1, depth);
    return this.bytes[this.pos++] as number;
  }

  private u16(depth: number): number {
    this.need(2, depth);
    const b = this.bytes;
    const v = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  private u32(depth: number): number {
    this.need(4, depth);
    const b = this.bytes;
    const p = this.pos;
    const v =
      (b[p] as number) * 0x1000000 +
      (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
    this.pos += 4;
    return v;
  }

  private skip(n: number, depth: number): void {
    this.need(n, depth);
    this.pos += n;
  }

  private need(n: number, depth: number): void {
    if (this.pos + n > this.bytes.byteLength) throw this.truncated(depth - 1);
  }

  private truncated(depth: number): ScanError {
    return new ScanError(
      'MALFORMED',
      `MessagePack data ends early (at byte ${this.bytes.byteLength}, while reading offset ${this.pos})`,
      depth,
    );
  }
}
