/**
 * Safe decoding of untrusted JSON and MessagePack documents (rule sets now, request payloads
 * later): size cap before decoding, nesting cap, forbidden keys, no MessagePack extension types,
 * no integers that lose precision. Results are values, never exceptions.
 * @module
 */
export { type DocumentResult, decodeDocument } from './decode-document.ts';
export {
  type DecodeError,
  type DecodeErrorKind,
  type DecodeLimits,
  type DecodeResult,
  FORBIDDEN_KEYS,
} from './decode-result.ts';
export { contentTypeOf, detectEncoding, type Encoding } from './detect-encoding.ts';
export { inspectTree } from './inspect-tree.ts';
export { decodeJson, type JsonDecodeOptions } from './json-decoder.ts';
export { jsonEqual } from './json-equal.ts';
export { joinPointer, pointerSegments, resolvePointer } from './json-pointer.ts';
export { decodeMsgpack } from './msgpack-decoder.ts';
export { scanMsgpack } from './msgpack-scanner.ts';
