import { joinPointer } from '../json-schema/index.ts';
import { type DecodeErrorKind, type DecodeResult, decodeFailure } from './decode-result.ts';

/**
 * A structural pass over MessagePack bytes that runs before any decoder sees them. It refuses
 * what a plain-data decoder must never act on: extension types (msgpackr would build Errors,
 * RegExps, Sets, typed arrays or mutate record state from them), the reserved byte 0xc1,
 * non-string map keys, forbidden keys, integers beyond ±(2^53−1), nesting deeper than the cap,
 * lengths that run past the end, and trailing bytes after the one top-level value.
 * Recursion is bounded by `maxDepth`.
 */
export function scanMsgpack(bytes: Uint8Array, maxDepth: number): DecodeResult | null {
  const scanner = new Scanner(bytes, maxDepth);
  try {
    scanner.value(1);
    if (scanner.pos !== bytes.byteLength) {
      return decodeFailure(
        'MALFORMED',
        '',
        `${bytes.byteLength - scanner.pos} trailing bytes after the top-level value`,
      );
    }
    return null;
  } catch (error) {
    if (error instanceof ScanError)
      return decodeFailure(error.kind, error.segments.reduce(joinPointer, ''), error.message);
    throw error;
  }
}

class ScanError extends Error {
  readonly segments: Array<string | number> = [];
  constructor(
    readonly kind: DecodeErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const FORBIDDEN_KEY_BYTES = ['__proto__', 'constructor', 'prototype'].map((k) =>
  new TextEncoder().encode(k),
);
const keyText = new TextDecoder();

class Scanner {
  pos = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly maxDepth: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(depth: number): void {
    const b = this.u8();
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3 && b !== 0xc1)) return;
    if (b >= 0xa0 && b <= 0xbf) this.skip(b & 0x1f);
    else if (b >= 0x80 && b <= 0x8f) this.map(b & 0x0f, depth);
    else if (b >= 0x90 && b <= 0x9f) this.array(b & 0x0f, depth);
    else if (b === 0xcf || b === 0xd3) this.int64(b === 0xd3);
    else if (b === 0xdc || b === 0xdd) this.array(b === 0xdc ? this.u16() : this.u32(), depth);
    else if (b === 0xde || b === 0xdf) this.map(b === 0xde ? this.u16() : this.u32(), depth);
    else if (b === 0xc1)
      throw new ScanError('MALFORMED', `reserved byte 0xc1 at offset ${this.pos - 1}`);
    else this.skip(this.scalarLength(b));
  }

  /** Bytes that follow the type byte of a bin, str, float or fixed-width integer. */
  private scalarLength(b: number): number {
    switch (b) {
      case 0xc4:
      case 0xd9:
        return this.u8();
      case 0xc5:
      case 0xda:
        return this.u16();
      case 0xc6:
      case 0xdb:
        return this.u32();
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
        );
    }
  }

  private array(count: number, depth: number): void {
    this.nest(depth);
    // Every element takes at least one byte, so a count past the end is a lie we can see now.
    if (count > this.bytes.byteLength - this.pos) throw this.truncated();
    for (let i = 0; i < count; i++) {
      try {
        this.value(depth + 1);
      } catch (error) {
        if (error instanceof ScanError) error.segments.unshift(i);
        throw error;
      }
    }
  }

  private map(count: number, depth: number): void {
    this.nest(depth);
    if (count * 2 > this.bytes.byteLength - this.pos) throw this.truncated();
    for (let i = 0; i < count; i++) {
      const [start, length] = this.key();
      try {
        this.value(depth + 1);
      } catch (error) {
        if (error instanceof ScanError)
          error.segments.unshift(keyText.decode(this.bytes.subarray(start, start + length)));
        throw error;
      }
    }
  }

  private key(): [number, number] {
    const b = this.u8();
    let length: number;
    if (b >= 0xa0 && b <= 0xbf) length = b & 0x1f;
    else if (b === 0xd9) length = this.u8();
    else if (b === 0xda) length = this.u16();
    else if (b === 0xdb) length = this.u32();
    else throw new ScanError('MALFORMED', `map key at offset ${this.pos - 1} is not a string`);
    const start = this.pos;
    this.skip(length);
    for (const forbidden of FORBIDDEN_KEY_BYTES) {
      if (forbidden.length === length && forbidden.every((c, i) => this.bytes[start + i] === c)) {
        const error = new ScanError(
          'FORBIDDEN_KEY',
          `key "${keyText.decode(forbidden)}" is not allowed`,
        );
        error.segments.push(keyText.decode(forbidden));
        throw error;
      }
    }
    return [start, length];
  }

  private int64(signed: boolean): void {
    this.need(8);
    const value = signed ? this.view.getBigInt64(this.pos) : this.view.getBigUint64(this.pos);
    this.pos += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ScanError(
        'UNSAFE_INTEGER',
        `integer ${value} is beyond ±(2^53−1) and would lose precision`,
      );
    }
  }

  private nest(depth: number): void {
    if (depth > this.maxDepth)
      throw new ScanError('TOO_DEEP', `nesting deeper than ${this.maxDepth} levels`);
  }

  private u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  private skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) throw this.truncated();
  }

  private truncated(): ScanError {
    return new ScanError(
      'MALFORMED',
      `MessagePack data ends early (at byte ${this.bytes.byteLength}, while reading offset ${this.pos})`,
    );
  }
}
