/**
 * Signed rule sets: Ed25519 keys, DSSE envelopes around the exact rule-set bytes, and the trust
 * root (trusted keys + threshold) that sidecars verify them against.
 * @module
 */
export {
  DELTA_PAYLOAD_TYPE,
  ENVELOPE_CONTENT_TYPE,
  type Envelope,
  type EnvelopeSignature,
  looksLikeEnvelope,
  type OpenedEnvelope,
  openEnvelope,
  PAYLOAD_TYPES,
  pae,
  signRuleDelta,
  signRuleSet,
} from './envelope.ts';
export {
  generateSigningKey,
  KeyError,
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  publicKeyOf,
} from './keys.ts';
export { TrustRoot, type Verification } from './trust-root.ts';
