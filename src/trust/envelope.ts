import { Buffer } from 'node:buffer';
import { type KeyObject, sign } from 'node:crypto';
import { keyIdOf, publicKeyOf, toBase64 } from './keys.ts';

/** MQTT 5 content type of a signed rule set: a DSSE envelope (in-toto/Sigstore's format). */
export const ENVELOPE_CONTENT_TYPE = 'application/vnd.dsse.envelope.v1+json';

/** The `payloadType` of a signed rule set, by the encoding of the rule set inside. */
export const PAYLOAD_TYPES = {
  json: 'application/vnd.filament.rule-set.v1+json',
  msgpack: 'application/vnd.filament.rule-set.v1+msgpack',
} as const;

/**
 * The `payloadType` of a signed rule delta (docs/rule-deltas.md): the signature covers the whole
 * delta document, so its base, version and result digest with it.
 */
export const DELTA_PAYLOAD_TYPE = 'application/vnd.filament.rules-delta.v1+json';

/** One signature in an envelope. */
export interface EnvelopeSignature {
  readonly keyid: string;
  /** Base64 Ed25519 signature over {@linkcode pae}(payloadType, payload). */
  readonly sig: string;
}

/** A DSSE envelope: `payload` is the base64 of the exact rule-set bytes that were signed. */
export interface Envelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly EnvelopeSignature[];
}

/** An opened envelope: the signed bytes and what they are. */
export interface OpenedEnvelope {
  readonly payloadType: string;
  /** A complete rule set, or a delta to one (always JSON). */
  readonly contents: 'rule-set' | 'rules-delta';
  readonly encoding: 'json' | 'msgpack';
  readonly payload: Uint8Array;
  readonly signatures: readonly EnvelopeSignature[];
}

/**
 * DSSE's pre-authentication encoding, the bytes a signature covers:
 * `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`, lengths in ASCII decimal. Binding
 * the type means a signature over a JSON rule set cannot be replayed as MessagePack, or the
 * payload of one envelope spliced under the signatures of another.
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(
    `DSSEv1 ${type.byteLength} ${payloadType} ${payload.byteLength} `,
    'utf8',
  );
  return Buffer.concat([head, payload]);
}

/** Whether a decoded JSON value has the shape of an envelope (and so is not a bare rule set). */
export function looksLikeEnvelope(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    'payloadType' in value &&
    'payload' in value
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Opens a decoded envelope, checking its shape; returns the reason it is malformed instead. */
export function openEnvelope(value: unknown): OpenedEnvelope | { error: string; path: string } {
  const e = value as Record<string, unknown>;
  const extra = Object.keys(e).filter((k) => !['payloadType', 'payload', 'signatures'].includes(k));
  if (extra.length > 0) return { error: `unknown field "${extra[0]}"`, path: `/${extra[0]}` };
  const isDelta = e.payloadType === DELTA_PAYLOAD_TYPE;
  const encoding = isDelta
    ? 'json'
    : Object.entries(PAYLOAD_TYPES).find(([, type]) => type === e.payloadType)?.[0];
  if (encoding === undefined)
    return {
      error: `payloadType must be ${[...Object.values(PAYLOAD_TYPES), DELTA_PAYLOAD_TYPE].join(', ')} (got ${JSON.stringify(e.payloadType)})`,
      path: '/payloadType',
    };
  if (typeof e.payload !== 'string' || e.payload.length % 4 !== 0 || !BASE64.test(e.payload))
    return { error: 'payload must be standard base64', path: '/payload' };
  if (!Array.isArray(e.signatures) || e.signatures.length === 0)
    return { error: 'signatures must be a non-empty array', path: '/signatures' };
  if (e.signatures.length > 64)
    return { error: `at most 64 signatures (got ${e.signatures.length})`, path: '/signatures' };
  for (const [i, s] of e.signatures.entries()) {
    const sig = s as Record<string, unknown> | null;
    if (
      sig === null ||
      typeof sig !== 'object' ||
      typeof sig.keyid !== 'string' ||
      typeof sig.sig !== 'string' ||
      !BASE64.test(sig.sig)
    )
      return { error: 'each signature needs a keyid and a base64 sig', path: `/signatures/${i}` };
  }
  return {
    payloadType: e.payloadType as string,
    contents: isDelta ? 'rules-delta' : 'rule-set',
    encoding: encoding as 'json' | 'msgpack',
    payload: new Uint8Array(Buffer.from(e.payload, 'base64')),
    signatures: e.signatures as EnvelopeSignature[],
  };
}

/** Signs the exact bytes of a rule set with each private key, into an envelope. */
export function signRuleSet(
  bytes: Uint8Array,
  encoding: 'json' | 'msgpack',
  privateKeys: readonly KeyObject[],
): Envelope {
  return signPayload(bytes, PAYLOAD_TYPES[encoding], privateKeys);
}

/** Signs the exact bytes of a rule delta (JSON) with each private key, into an envelope. */
export function signRuleDelta(bytes: Uint8Array, privateKeys: readonly KeyObject[]): Envelope {
  return signPayload(bytes, DELTA_PAYLOAD_TYPE, privateKeys);
}

function signPayload(
  bytes: Uint8Array,
  payloadType: string,
  privateKeys: readonly KeyObject[],
): Envelope {
  const signed = pae(payloadType, bytes);
  return {
    payloadType,
    payload: toBase64(bytes),
    signatures: privateKeys.map((key) => ({
      keyid: keyIdOf(publicKeyOf(key)),
      sig: toBase64(sign(null, signed, key)),
    })),
  };
}
