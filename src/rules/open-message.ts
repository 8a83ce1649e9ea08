import { Buffer } from 'node:buffer';
import { contentTypeOf, type DecodeLimits } from '../codec/index.ts';
import { ENVELOPE_CONTENT_TYPE, type TrustRoot } from '../trust/index.ts';
import type { MadeByDelta } from './compile-rule-set.ts';
import { readEnvelope } from './read-envelope.ts';
import { accepted, type Checked, refused, reject } from './rejection.ts';
import type { RuleMessage } from './rule-applier.ts';
import { DELTA_CONTENT_TYPE, DELTA_KIND, parseRuleDelta } from './rule-delta.ts';

/** A message opened: the bytes inside, what they are, and who signed them. */
export interface Opened {
  readonly bytes: Uint8Array;
  readonly contentType: string | undefined;
  readonly signedBy: readonly string[] | undefined;
  /** The bytes are a rule delta. */
  readonly delta: boolean;
  /** What a restored set must be, when a delta vouches for it. */
  readonly digest?: { readonly version: number; readonly digest: string };
  /** That delta. */
  readonly madeBy?: MadeByDelta;
}

/**
 * Unwraps a signed envelope (by its content type, or — without one — when a JSON message has
 * the envelope's fields) and checks its signatures against the trust root. A bare rule set
 * passes through, unless a trust root requires signatures.
 */
export function openSigned(
  message: RuleMessage,
  trust: TrustRoot | undefined,
  limits: DecodeLimits,
): Checked<Opened> {
  const envelope = readEnvelope(message, limits);
  if (envelope === null) {
    const delta = isDelta(message);
    if (trust !== undefined)
      return refused(
        reject(
          'UNSIGNED',
          '',
          `rule ${delta ? 'deltas' : 'sets'} must be signed (a ${ENVELOPE_CONTENT_TYPE} envelope) by ${trust.threshold} of the trusted keys`,
        ),
      );
    return accepted({
      bytes: message.bytes,
      contentType: message.contentType,
      signedBy: undefined,
      delta,
    });
  }
  if ('rejection' in envelope) return refused(envelope.rejection);
  let signedBy: readonly string[] = [];
  if (trust !== undefined) {
    const verified = trust.verify(envelope);
    if (!verified.ok) return refused(reject('SIGNATURE', '/signatures', verified.message));
    signedBy = verified.keyIds;
  }
  return accepted({
    bytes: envelope.payload,
    contentType: contentTypeOf(envelope.encoding),
    signedBy,
    delta: envelope.contents === 'rules-delta',
  });
}

/**
 * Opens a complete set restored from disk with the delta that made it: the delta is opened (and
 * its signatures checked) like any message, and the set, bare, must then match the version and
 * digest the delta names.
 */
export function openAttested(
  message: RuleMessage,
  attestation: Uint8Array,
  trust: TrustRoot | undefined,
  limits: DecodeLimits,
): Checked<Opened> {
  const opened = openSigned({ tenant: message.tenant, bytes: attestation }, trust, limits);
  if (!opened.ok) return opened;
  const delta = opened.value.delta ? parseRuleDelta(opened.value.bytes, limits) : null;
  if (delta === null || !delta.ok)
    return refused(
      reject('BAD_ENVELOPE', '', 'what vouches for a restored set must be a rule delta'),
    );
  return accepted({
    bytes: message.bytes,
    contentType: message.contentType,
    signedBy: opened.value.signedBy,
    delta: false,
    digest: { version: delta.value.version, digest: delta.value.digest },
    madeBy: {
      message: attestation,
      signed: opened.value.signedBy !== undefined,
      base: delta.value.base,
    },
  });
}

const DELTA_MARKS = [`"kind":"${DELTA_KIND}"`, `"kind": "${DELTA_KIND}"`].map((m) =>
  Buffer.from(m),
);

/**
 * Whether a message is a delta: by its MQTT 5 content type, or — without one — a JSON document
 * with `"kind": "filament.rules.delta/v1"` in its first 256 bytes (a publisher writes `kind`
 * first). A rule set that merely mentions the kind elsewhere is not taken for one.
 */
function isDelta(message: RuleMessage): boolean {
  if (message.contentType !== undefined) return message.contentType === DELTA_CONTENT_TYPE;
  const head = message.bytes.subarray(0, 256);
  if (head[0] !== 0x7b) return false;
  const text = Buffer.from(head);
  return DELTA_MARKS.some((mark) => text.includes(mark));
}
