import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** PEM files of a throw-away CA with a server certificate for 127.0.0.1 and a client certificate. */
export interface TestCertificates {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

function openssl(dir: string, args: string): void {
  const run = spawnSync('openssl', args.split(' '), { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args} failed: ${run.stderr}`);
}

/** A new P-256 key written to `{name}.key`, unencrypted. */
const NEW_KEY = (name: string) =>
  `-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ${name}.key`;

/**
 * Creates, with the `openssl` command, a CA named `prefix`-ca and certificates it signed: one for
 * a broker on 127.0.0.1 and one for a client. Elliptic-curve keys, valid for two days. (File
 * names are built from `prefix`, so it must not contain spaces.)
 */
export async function createCertificates(dir: string, prefix = 'test'): Promise<TestCertificates> {
  const ca = `${prefix}-ca`;
  openssl(dir, `req -x509 ${NEW_KEY(ca)} -out ${ca}.crt -days 2 -subj /CN=${ca}`);
  for (const [name, ext] of [
    [`${prefix}-server`, 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    [`${prefix}-client`, 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    await writeFile(join(dir, `${name}.ext`), ext);
    openssl(dir, `req ${NEW_KEY(name)} -out ${name}.csr -subj /CN=${name}`);
    openssl(
      dir,
      `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 2 -out ${name}.crt -extfile ${name}.ext`,
    );
  }
  return {
    caFile: join(dir, `${ca}.crt`),
    serverCertFile: join(dir, `${prefix}-server.crt`),
    serverKeyFile: join(dir, `${prefix}-server.key`),
    clientCertFile: join(dir, `${prefix}-client.crt`),
    clientKeyFile: join(dir, `${prefix}-client.key`),
  };
}
