/**
 * Files the config names, read when the sidecar starts: broker secrets (e.g. systemd
 * credentials) and trusted signing keys. Every failure is a {@linkcode ConfigError} naming the
 * config field and the file.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { type Config, ConfigError } from '../config/index.ts';
import { KeyError, parsePublicKey, TrustRoot } from '../trust/index.ts';
import { type BrokerSecretFiles, type BrokerSecrets, readBrokerSecrets } from './broker-secrets.ts';

/** A file named by the config (`field`, for the error). */
async function readConfigFile(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${field}: cannot read ${path}: ${(error as Error).message}`], {
      cause: error,
    });
  }
}

const FIELD_OF: Record<keyof BrokerSecretFiles, string> = {
  passwordFile: 'broker.password_file',
  caFile: 'broker.tls.ca_file',
  certFile: 'broker.tls.cert_file',
  keyFile: 'broker.tls.key_file',
};

/** The broker password and TLS files the config names, read once at start-up. @throws {ConfigError} */
export function readBrokerFiles(broker: Config['broker']): Promise<BrokerSecrets> {
  return readBrokerSecrets(
    {
      passwordFile: broker.passwordFile,
      caFile: broker.tls?.caFile,
      certFile: broker.tls?.certFile,
      keyFile: broker.tls?.keyFile,
    },
    (field) => FIELD_OF[field],
    (message, cause) => new ConfigError([message], { cause }),
  );
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
        return parsePublicKey(await readConfigFile(file, 'rules.trusted_keys'), file);
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
