import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateSigningKey,
  KeyError,
  parsePrivateKey,
  parsePublicKey,
  TrustRoot,
} from '../trust/index.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { parseFlags } from './parse-flags.ts';

/**
 * `filament rules keygen NAME [--dir DIR]`: writes `NAME.key` (the private key, PKCS #8 PEM, mode
 * 0600, never overwritten) and `NAME.pub` (the public key to list in `rules.trusted_keys`), and
 * prints the key id sidecars will show.
 */
export async function keygen(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { dir: { type: 'string' } }, 'rules keygen');
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0 || !/^[A-Za-z0-9._-]+$/.test(name))
    throw new UsageError('rules keygen: expected one NAME (letters, digits, . _ -)');
  const dir = values.dir ?? '.';
  const key = generateSigningKey();
  const privatePath = join(dir, `${name}.key`);
  const publicPath = join(dir, `${name}.pub`);
  try {
    await writeFile(privatePath, key.privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(publicPath, key.publicPem, { flag: 'wx' });
  } catch (error) {
    io.err(`rules keygen: ${(error as Error).message} (existing keys are never overwritten)`);
    return EXIT.failed;
  }
  io.out(
    `key id ${key.keyId}: private key ${privatePath} (keep it secret), public key ${publicPath}`,
  );
  return EXIT.ok;
}

/** Reads the private keys named by `--key` flags. @throws {KeyError} naming the file. */
export async function readSigningKeys(paths: readonly string[]) {
  return Promise.all(
    paths.map(async (path) => {
      let pem: string;
      try {
        pem = await readFile(path, 'utf8');
      } catch (error) {
        throw new KeyError(`--key: cannot read ${path}: ${(error as Error).message}`);
      }
      return parsePrivateKey(pem, path);
    }),
  );
}

/** A trust root from `--trusted-key` files (for checking signatures offline), or `undefined`. */
export async function readTrustRoot(
  paths: readonly string[] | undefined,
  threshold: string | undefined,
): Promise<TrustRoot | undefined> {
  if (paths === undefined || paths.length === 0) {
    if (threshold !== undefined) throw new UsageError('--threshold needs --trusted-key');
    return undefined;
  }
  const keys = await Promise.all(
    paths.map(async (path) => {
      let pem: string;
      try {
        pem = await readFile(path, 'utf8');
      } catch (error) {
        throw new KeyError(`--trusted-key: cannot read ${path}: ${(error as Error).message}`);
      }
      return parsePublicKey(pem, path);
    }),
  );
  const n = threshold === undefined ? 1 : Number(threshold);
  try {
    return new TrustRoot(keys, n);
  } catch (error) {
    throw new UsageError(`--threshold: ${(error as Error).message}`);
  }
}
