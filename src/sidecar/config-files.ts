/**
 * Files the config names, read when the sidecar starts: broker secrets (e.g. systemd
 * credentials) and trusted signing keys. Every failure is a {@linkcode ConfigError} naming the
 * config field and the file.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { type Config, ConfigError } from '../config/index.ts';
import type { MqttConnectionOptions } from '../mqtt/index.ts';
import { KeyError, parsePublicKey, TrustRoot } from '../trust/index.ts';

/** A file named by the config (`field`, for the error), e.g. a systemd credential. */
async function readSecret(path: string, field = 'broker.password_file'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${field}: cannot read ${path}: ${(error as Error).message}`], {
      cause: error,
    });
  }
}

/** The PEM files of `broker.tls`, read once at start-up. @throws {ConfigError} */
export async function readTls(tls: Config['broker']['tls']): Promise<MqttConnectionOptions['tls']> {
  if (tls === undefined) return undefined;
  const read = (path: string | undefined, key: string) =>
    path === undefined ? undefined : readSecret(path, `broker.tls.${key}`);
  const [ca, cert, key] = await Promise.all([
    read(tls.caFile, 'ca_file'),
    read(tls.certFile, 'cert_file'),
    read(tls.keyFile, 'key_file'),
  ]);
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };
}

/**
 * The trust root from the configured key files, or `undefined` when none are configured.
 * @throws {ConfigError} naming the file: unreadable, not an Ed25519 public key, or a private key.
 */
export async function loadTrustRoot(
  files: readonly string[],
  threshold: number,
): Promise<TrustRoot | undefined> {
  if (files.length === 0) return undefined;
  const keys = await Promise.all(
    files.map(async (file) => {
      try {
        return parsePublicKey(await readSecret(file, 'rules.trusted_keys'), file);
      } catch (error) {
        if (!(error instanceof KeyError)) throw error;
        throw new ConfigError([`rules.trusted_keys: ${error.message}`]);
      }
    }),
  );
  try {
    return new TrustRoot(keys, threshold);
  } catch (error) {
    throw new ConfigError([`rules.signature_threshold: ${(error as Error).message}`]);
  }
}

/** The broker password from `broker.password_file` (one trailing newline dropped). @throws {ConfigError} */
export async function readPassword(file: string | undefined): Promise<string | undefined> {
  return file === undefined ? undefined : (await readSecret(file)).replace(/\r?\n$/, '');
}
