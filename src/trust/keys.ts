import { Buffer } from 'node:buffer';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

/** Thrown for a key that is not a PEM Ed25519 key of the expected kind; the message says why. */
export class KeyError extends Error {
  override readonly name = 'KeyError';
}

/**
 * A key's id: the first 16 hex digits of the SHA-256 of its raw 32-byte Ed25519 public key. Derived
 * from the key itself (as in TUF), so a signature cannot claim to come from a key it does not.
 */
export function keyIdOf(publicKey: KeyObject): string {
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** Parses a PEM (SPKI) Ed25519 public key. @throws {KeyError} */
export function parsePublicKey(pem: string, source = 'public key'): KeyObject {
  // createPublicKey would derive the public half of a private key: refuse instead, since a
  // private key on a sidecar host is a mistake worth stopping for.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem))
    throw new KeyError(
      `${source}: is a private key; trust the .pub file and keep the private key off sidecar hosts`,
    );
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new KeyError(`${source}: not a PEM public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KeyError(`${source}: an Ed25519 key is needed, got ${key.asymmetricKeyType}`);
  return key;
}

/** Parses a PEM (PKCS #8) Ed25519 private key. @throws {KeyError} */
export function parsePrivateKey(pem: string, source = 'private key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new KeyError(`${source}: not a PEM private key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KeyError(`${source}: an Ed25519 key is needed, got ${key.asymmetricKeyType}`);
  return key;
}

/** A new Ed25519 key pair as PEM text, with its key id. */
export function generateSigningKey(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: String(privateKey.export({ format: 'pem', type: 'pkcs8' })),
    publicPem: String(publicKey.export({ format: 'pem', type: 'spki' })),
    keyId: keyIdOf(publicKey),
  };
}

/** The public half of a private key. */
export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

/** Standard base64 of bytes (what envelopes carry). */
export const toBase64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
