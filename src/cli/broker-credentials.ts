import { readFile } from 'node:fs/promises';
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
export interface BrokerCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/** Thrown when a file named by a credential flag cannot be read; the message names the flag. */
export class CredentialFileError extends Error {
  override readonly name = 'CredentialFileError';
}

type CredentialValues = { [K in keyof typeof CREDENTIAL_FLAGS]?: string | undefined };

/**
 * Reads the files the credential flags name.
 * @throws {CredentialFileError} naming the flag and the file.
 */
export async function brokerCredentials(values: CredentialValues): Promise<BrokerCredentials> {
  const read = async (flag: keyof typeof CREDENTIAL_FLAGS) => {
    const path = values[flag];
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new CredentialFileError(`--${flag}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const [password, ca, cert, key] = await Promise.all([
    read('password-file'),
    read('ca-file'),
    read('cert-file'),
    read('key-file'),
  ]);
  const tls = {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };
  return {
    ...(values.username !== undefined ? { username: values.username } : {}),
    ...(password !== undefined ? { password: password.replace(/\r?\n$/, '') } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  };
}
