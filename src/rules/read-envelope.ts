import { Buffer } from 'node:buffer';
import { type DecodeLimits, decodeDocument } from '../codec/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  looksLikeEnvelope,
  type OpenedEnvelope,
  openEnvelope,
} from '../trust/index.ts';
import { type Rejection, reject } from './rejection.ts';

const ENVELOPE_FIELD = new TextEncoder().encode('"payloadType"');

/**
 * The envelope a message carries, `null` for a bare rule set, or why the envelope is unusable.
 * Without a content type, only a JSON message that mentions `"payloadType"` is decoded to look
 * (a bare set is then decoded again by the rule-set parser: the rare case pays, not the common).
 */
export function readEnvelope(
  message: { readonly bytes: Uint8Array; readonly contentType?: string | undefined },
  limits: DecodeLimits,
): OpenedEnvelope | { rejection: Rejection } | null {
  const declared = message.contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (declared !== ENVELOPE_CONTENT_TYPE) {
    if (declared !== undefined && declared !== '' && declared !== 'application/json') return null;
    if (indexOf(message.bytes, ENVELOPE_FIELD) < 0) return null;
  }
  // The cap is on the rule set inside (checked again when it is parsed); its envelope carries it
  // in base64, a third larger, plus signatures.
  const envelopeLimits = { ...limits, maxBytes: Math.ceil((limits.maxBytes * 4) / 3) + 65_536 };
  const decoded = decodeDocument(message.bytes, envelopeLimits, 'application/json');
  if (!decoded.ok)
    return declared === ENVELOPE_CONTENT_TYPE
      ? { rejection: reject(decoded.error.kind, decoded.error.path, decoded.error.message) }
      : null;
  if (!looksLikeEnvelope(decoded.value)) {
    if (declared !== ENVELOPE_CONTENT_TYPE) return null;
    return {
      rejection: reject(
        'BAD_ENVELOPE',
        '',
        'content type says envelope, but it has no payloadType/payload',
      ),
    };
  }
  const opened = openEnvelope(decoded.value);
  if ('error' in opened) return { rejection: reject('BAD_ENVELOPE', opened.path, opened.error) };
  return opened;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);
}
