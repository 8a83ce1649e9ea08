import { Buffer } from 'node:buffer';
import { createHash, type KeyObject, verify } from 'node:crypto';
import { type OpenedEnvelope, pae } from './envelope.ts';
import { keyIdOf } from './keys.ts';

/** The outcome of {@linkcode TrustRoot.verify}. */
export type Verification =
  | { readonly ok: true; readonly keyIds: readonly string[] }
  | { readonly ok: false; readonly message: string };

/**
 * The keys this sidecar trusts to sign rule sets, and how many distinct ones must sign each set.
 * Each key counts once however often it signs; signatures by unknown keys are ignored (they may
 * belong to keys being rotated in elsewhere); a set is accepted when at least `threshold`
 * trusted keys produced a valid signature over it.
 */
export class TrustRoot {
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Identifies this set of keys and threshold; it changes when either does. */
  readonly fingerprint: string;

  constructor(
    publicKeys: readonly KeyObject[],
    readonly threshold = 1,
  ) {
    if (!Number.isSafeInteger(threshold) || threshold < 1)
      throw new RangeError(`threshold must be a positive integer, got ${threshold}`);
    this.keys = new Map(publicKeys.map((key) => [keyIdOf(key), key]));
    if (threshold > this.keys.size)
      throw new RangeError(
        `threshold ${threshold} is more than the ${this.keys.size} distinct trusted key(s)`,
      );
    const ids = [...this.keys.keys()].sort();
    this.fingerprint = createHash('sha256')
      .update(`${threshold}:${ids.join(',')}`)
      .digest('hex')
      .slice(0, 16);
  }

  /** Checks an opened envelope's signatures against these keys and the threshold. */
  verify(envelope: OpenedEnvelope): Verification {
    const signed = pae(envelope.payloadType, envelope.payload);
    const valid = new Set<string>();
    const unknown = new Set<string>();
    const invalid = new Set<string>();
    for (const { keyid, sig } of envelope.signatures) {
      const key = this.keys.get(keyid);
      if (key === undefined) {
        unknown.add(keyid);
        continue;
      }
      if (valid.has(keyid)) continue;
      const bytes = Buffer.from(sig, 'base64');
      if (bytes.byteLength === 64 && verify(null, signed, key, bytes)) valid.add(keyid);
      else invalid.add(keyid);
    }
    if (valid.size >= this.threshold) return { ok: true, keyIds: [...valid] };
    const parts = [
      `${valid.size} valid signature(s) from trusted keys, ${this.threshold} needed`,
      ...(valid.size > 0 ? [`valid: ${[...valid].join(', ')}`] : []),
      ...(invalid.size > 0 ? [`not valid for this payload: ${[...invalid].join(', ')}`] : []),
      ...(unknown.size > 0 ? [`unknown key ids: ${[...unknown].join(', ')}`] : []),
    ];
    return { ok: false, message: parts.join('; ') };
  }
}
