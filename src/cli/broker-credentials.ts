import {
  type BrokerSecretFiles,
  type BrokerSecrets,
  readBrokerSecrets,
} from '../credentials/index.ts';
import type { Options } from './parse-flags.ts';

/**
 * Flags for a secured broker, shared by the commands that talk to one. Secrets come from files
 * only (as for `filament run`): a password on the command line would be visible to every user of
 * the host in the process list.
 */
export const CREDENTIAL_FLAGS = {
  username: { type: 'string' },
  'password-file': { type: 'string' },
  'ca-file': { type: 'string' },
  'cert-file': { type: 'string' },
  'key-file': { type: 'string' },
} as const satisfies Options;

/** What {@linkcode brokerCredentials} reads: MQTT username/password and TLS PEM material. */
export interface BrokerCredentials extends BrokerSecrets {
  readonly username?: string;
}

/** Thrown when a file named by a credential flag cannot be read; the message names the flag. */
export class CredentialFileError extends Error {
  override readonly name = 'CredentialFileError';
}

type CredentialValues = { [K in keyof typeof CREDENTIAL_FLAGS]?: string | undefined };

const FLAG_OF: Record<keyof BrokerSecretFiles, string> = {
  passwordFile: '--password-file',
  caFile: '--ca-file',
  certFile: '--cert-file',
  keyFile: '--key-file',
};

/**
 * Reads the files the credential flags name.
 * @throws {CredentialFileError} naming the flag and the file.
 */
export async function brokerCredentials(values: CredentialValues): Promise<BrokerCredentials> {
  const secrets = await readBrokerSecrets(
    {
      passwordFile: values['password-file'],
      caFile: values['ca-file'],
      certFile: values['cert-file'],
      keyFile: values['key-file'],
    },
    (field) => FLAG_OF[field],
    (message) => new CredentialFileError(message),
  );
  return {
    ...(values.username !== undefined ? { username: values.username } : {}),
    ...secrets,
  };
}

/**
 * {@linkcode brokerCredentials} for a command: a file that cannot be read is said on stderr
 * (`command: …`) and gives `null`, for the command to exit 1.
 */
export async function credentialsOrSay(
  values: CredentialValues,
  command: string,
  err: (text: string) => void,
): Promise<BrokerCredentials | null> {
  try {
    return await brokerCredentials(values);
  } catch (error) {
    if (!(error instanceof CredentialFileError)) throw error;
    err(`${command}: ${error.message}`);
    return null;
  }
}
