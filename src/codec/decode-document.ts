import { type DecodeLimits, type DecodeResult, decodeFailure } from './decode-result.ts';
import { detectEncoding, type Encoding } from './detect-encoding.ts';
import { decodeJson, type JsonDecodeOptions } from './json-decoder.ts';
import { decodeMsgpack } from './msgpack-decoder.ts';

/** A decoded document together with the encoding it arrived in. */
export type DocumentResult = DecodeResult & { readonly encoding?: Encoding };

/**
 * Decodes an untrusted document of either encoding (see {@linkcode detectEncoding}) under
 * `limits`. The size cap is checked before anything else, including sniffing.
 */
export function decodeDocument(
  bytes: Uint8Array,
  limits: DecodeLimits,
  contentType?: string,
  options: JsonDecodeOptions = {},
): DocumentResult {
  if (bytes.byteLength > limits.maxBytes) {
    return decodeFailure(
      'TOO_LARGE',
      '',
      `message is ${bytes.byteLength} bytes; the limit is ${limits.maxBytes}`,
    );
  }
  const encoding = detectEncoding(bytes, contentType);
  if (typeof encoding !== 'string') return decodeFailure('UNKNOWN_ENCODING', '', encoding.error);
  const result =
    encoding === 'json' ? decodeJson(bytes, limits, options) : decodeMsgpack(bytes, limits);
  return { ...result, encoding };
}
