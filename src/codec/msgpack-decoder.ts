import { Unpackr } from 'msgpackr/unpack';
import { type DecodeLimits, type DecodeResult, decodeFailure } from './decode-result.ts';
import { scanMsgpack } from './msgpack-scanner.ts';

// Plain MessagePack only: maps become plain objects, no record or structured-clone state.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  moreTypes: false,
});

/**
 * Decodes untrusted MessagePack bytes into plain data: size cap first, then a structural scan
 * ({@linkcode scanMsgpack}) that refuses extension types, forbidden keys, unsafe integers and
 * deep nesting, and only then msgpackr.
 */
export function decodeMsgpack(bytes: Uint8Array, limits: DecodeLimits): DecodeResult {
  if (bytes.byteLength > limits.maxBytes) {
    return decodeFailure(
      'TOO_LARGE',
      '',
      `message is ${bytes.byteLength} bytes; the limit is ${limits.maxBytes}`,
    );
  }
  const problem = scanMsgpack(bytes, limits.maxDepth);
  if (problem) return problem;
  try {
    return { ok: true, value: unpackr.unpack(bytes) };
  } catch (error) {
    return decodeFailure('MALFORMED', '', `invalid MessagePack: ${(error as Error).message}`);
  }
}
