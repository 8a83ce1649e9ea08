import { readFile } from 'node:fs/promises';

/** The files that secure a broker connection; any may be absent. */
export interface BrokerSecretFiles {
  readonly passwordFile?: string | undefined;
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/** What those files hold: the password and the TLS PEM material (only what was named). */
export interface BrokerSecrets {
  readonly password?: string;
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/**
 * Reads the broker password (one trailing newline dropped, as editors and `echo` leave one) and
 * TLS files — for `filament run` from its config and for the CLI tools from their flags, which
 * name the files differently: an unreadable file becomes
 * `fail("{label(field)}: cannot read {path}: {reason}")`.
 */
export async function readBrokerSecrets(
  files: BrokerSecretFiles,
  label: (field: keyof BrokerSecretFiles) => string,
  fail: (message: string, cause: unknown) => Error,
): Promise<BrokerSecrets> {
  const read = async (field: keyof BrokerSecretFiles) => {
    const path = files[field];
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw fail(`${label(field)}: cannot read ${path}: ${(error as Error).message}`, error);
    }
  };
  const [password, ca, cert, key] = await Promise.all([
    read('passwordFile'),
    read('caFile'),
    read('certFile'),
    read('keyFile'),
  ]);
  const tls = {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
  };
  return {
    ...(password !== undefined ? { password: password.replace(/\r?\n$/, '') } : {}),
    ...(Object.keys(tls).length > 0 ? { tls } : {}),
  };
}
