import { type DecodeLimits, type DecodeResult, decodeFailure } from './decode-result.ts';
import { inspectTree } from './inspect-tree.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// A key can only be forbidden if its name, or a \u escape that could spell it, is in the text.
const SUSPICIOUS = /__proto__|constructor|prototype|\\u/;
// Valid UTF-8 bytes hold no lone surrogate; only a \uD800–\uDFFF escape can make one.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Options for {@linkcode decodeJson}. */
export interface JsonDecodeOptions {
  /**
   * Skip the nesting walk when no forbidden key can be present, because the caller checks the
   * shape with a schema and walks only its free-form parts (a large rule set, where a full walk
   * would cost more than the parse). JSON.parse itself copes with any depth without recursion;
   * the walk protects the recursive consumers after it. Default `false`.
   */
  readonly deferDepthCheck?: boolean;
}

/**
 * Decodes untrusted JSON bytes: size cap first, strict UTF-8, then `JSON.parse`, then a walk
 * that refuses forbidden keys (`__proto__`, `constructor`, `prototype`) and nesting deeper than
 * `limits.maxDepth`, and strings that are not well formed (a lone surrogate from a `\uD83D`
 * escape: no publisher could hash or canonicalise it). The walk is skipped for keys when the
 * text cannot spell a forbidden key or a surrogate.
 */
export function decodeJson(
  bytes: Uint8Array,
  limits: DecodeLimits,
  options: JsonDecodeOptions = {},
): DecodeResult {
  if (bytes.byteLength > limits.maxBytes) {
    return decodeFailure(
      'TOO_LARGE',
      '',
      `message is ${bytes.byteLength} bytes; the limit is ${limits.maxBytes}`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return decodeFailure('MALFORMED', '', 'JSON is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return decodeFailure('MALFORMED', '', `invalid JSON: ${(error as Error).message}`);
  }
  if (!options.deferDepthCheck || SUSPICIOUS.test(text)) {
    const problem = inspectTree(value, limits.maxDepth, '', SURROGATE_ESCAPE.test(text));
    if (problem) return problem;
  }
  return { ok: true, value };
}
