import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildConfig, ConfigError } from '../../src/config/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { PublishError, publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { createCertificates, type TestCertificates } from '../helpers/tls-certs.ts';

// A mosquitto that takes only TLS with a client certificate from its CA, and a user with a
// password: what a production broker for the rule stream looks like.
describe('broker security: TLS with client certificates, and a password (mosquitto)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let certs: TestCertificates;
  let rogue: TestCertificates;
  let broker: MosquittoBroker;
  let url: string;
  const user = 'filament';
  let passwordFile: string;

  beforeAll(async () => {
    dir = await tempDir('filament-tls-');
    certs = await createCertificates(dir.path, 'fleet');
    rogue = await createCertificates(dir.path, 'rogue');
    passwordFile = join(dir.path, 'password');
    await writeFile(passwordFile, 'correct horse\n');
    const passwd = join(dir.path, 'mosquitto.passwd');
    const made = spawnSync('mosquitto_passwd', ['-b', '-c', passwd, user, 'correct horse']);
    expect(made.status).toBe(0);
    broker = await startMosquitto({
      extraConfig: [
        `cafile ${certs.caFile}`,
        `certfile ${certs.serverCertFile}`,
        `keyfile ${certs.serverKeyFile}`,
        'require_certificate true',
        `password_file ${passwd}`,
        'allow_anonymous false',
      ],
    });
    url = broker.url.replace('mqtt://', 'mqtts://');
  });
  afterAll(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  const clientTls = async (c: TestCertificates, ca = certs.caFile) => ({
    ca: await readFile(ca, 'utf8'),
    cert: await readFile(c.clientCertFile, 'utf8'),
    key: await readFile(c.clientKeyFile, 'utf8'),
  });

  async function sidecarConfig(name: string, tls: string) {
    const file = join(dir.path, `${name}.toml`);
    await writeFile(
      file,
      [
        '[broker]',
        `username = "${user}"`,
        `password_file = "${passwordFile}"`,
        '[broker.tls]',
        tls,
        '[api]',
        `socket = "${join(dir.path, `${name}.sock`)}"`,
        '[saturation]',
        'nvidia_smi = "off"',
      ].join('\n'),
    );
    return file;
  }

  /** A `filament run` process with its own config `name`, following tenant acme over TLS. */
  const startTlsSidecar = async (name: string, tls: string) =>
    startSidecarProcess(
      sidecarArgs({
        config: await sidecarConfig(name, tls),
        brokers: [url],
        tenant: 'acme',
        replica: `tls-${name}`,
        stateDir: join(dir.path, name),
      }),
    );

  test('a sidecar with the CA, its client certificate and the password file follows the stream', async () => {
    const sidecar = await startTlsSidecar(
      'good',
      `ca_file = "${certs.caFile}"\ncert_file = "${certs.clientCertFile}"\nkey_file = "${certs.clientKeyFile}"`,
    );
    try {
      await sidecar.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
      await publishOnce({
        url,
        topic: rulesTopic('filament/v1', 'acme'),
        payload: jsonBytes(ruleSet('acme', 1)),
        username: user,
        password: 'correct horse',
        tls: await clientTls(certs),
      });
      const applied = await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'the rules');
      expect(applied.version).toBe(1);
    } finally {
      await sidecar.kill('SIGTERM');
    }
  });

  test('a broker certificate from another CA is refused: no connection, the reason logged', async () => {
    const sidecar = await startTlsSidecar(
      'rogue-ca',
      `ca_file = "${rogue.caFile}"\ncert_file = "${certs.clientCertFile}"\nkey_file = "${certs.clientKeyFile}"`,
    );
    try {
      const error = await sidecar.waitForLog(
        (l) => l.msg === 'broker connection error',
        'the TLS failure',
      );
      expect(JSON.stringify(error)).toMatch(/certificate|self[- ]signed|verify/i);
      expect(sidecar.logs.some((l) => l.msg === 'connected to broker')).toBe(false);
    } finally {
      await sidecar.kill('SIGTERM');
    }
  });

  test('the broker refuses a client without its certificate, or with the wrong password', async () => {
    const topic = rulesTopic('filament/v1', 'acme');
    const payload = jsonBytes(ruleSet('acme', 1));
    const base = { url, topic, payload, username: user, timeoutMs: 3000 };
    const ca = await readFile(certs.caFile, 'utf8');
    await expect(publishOnce({ ...base, password: 'correct horse', tls: { ca } })).rejects.toThrow(
      PublishError,
    );
    await expect(
      publishOnce({ ...base, password: 'correct horse', tls: await clientTls(rogue) }),
    ).rejects.toThrow(PublishError);
    await expect(
      publishOnce({ ...base, password: 'wrong', tls: await clientTls(certs) }),
    ).rejects.toThrow(PublishError);
    // And the right combination still works, so the refusals above are about what they change.
    await publishOnce({ ...base, password: 'correct horse', tls: await clientTls(certs) });
  });

  test('`filament rules publish` and `filament top` take the same credentials, from files', async () => {
    const credentials = [
      '--username',
      user,
      '--password-file',
      passwordFile,
      '--ca-file',
      certs.caFile,
      '--cert-file',
      certs.clientCertFile,
      '--key-file',
      certs.clientKeyFile,
    ];
    const rules = join(dir.path, 'acme.v2.json');
    await writeFile(rules, jsonBytes(ruleSet('acme', 2)));
    const published = await cli('rules', 'publish', rules, '--broker', url, ...credentials);
    expect(published.err).toBe('');
    expect(published.out).toContain('published: tenant acme version 2');

    const top = await cli('top', '--broker', url, '--once', '--wait', '300', ...credentials);
    expect(top.err).toBe('');
    expect(top.code).toBe(0);
    // The first test's sidecar left its retained OFFLINE report: top could only see it over TLS.
    expect(top.out).toContain('tls-good');

    const missing = await cli(
      'rules',
      'publish',
      rules,
      '--broker',
      url,
      '--ca-file',
      join(dir.path, 'nope.pem'),
    );
    expect(missing.code).toBe(1);
    expect(missing.err).toContain(`--ca-file: cannot read ${join(dir.path, 'nope.pem')}`);
    const refused = await cli(
      'rules',
      'publish',
      rules,
      '--broker',
      url,
      '--timeout',
      '3',
      ...credentials.slice(0, 4),
      '--ca-file',
      certs.caFile,
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('not published');
  });

  test('config: TLS files only with TLS URLs, a certificate with its key, unreadable files named', async () => {
    const problems = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        if (error instanceof ConfigError) return error.problems.join('\n');
        throw error;
      }
      return '';
    };
    const doc = (urls: string[], tls: Record<string, string>) => ({
      identity: { cluster: 'c' },
      broker: { urls, tls },
      rules: { tenants: ['acme'] },
    });
    expect(problems(() => buildConfig(doc(['mqtt://h:1883'], { ca_file: '/ca' })))).toContain(
      'do not use TLS (mqtts://): mqtt://h:1883',
    );
    expect(problems(() => buildConfig(doc(['mqtts://h:8883'], { cert_file: '/c' })))).toContain(
      'cert_file and key_file go together',
    );
    expect(problems(() => buildConfig(doc(['mqtts://h:8883'], { ca_file: '/ca' })))).toBe('');

    const config = await sidecarConfig('missing-ca', `ca_file = "${join(dir.path, 'nope.crt')}"`);
    const run = await cli(
      'run',
      ...sidecarArgs({
        config,
        brokers: [url],
        tenant: 'acme',
        replica: 'tls-missing',
        stateDir: join(dir.path, 'missing'),
      }),
    );
    expect(run.code).toBe(1);
    expect(run.err).toContain(`broker.tls.ca_file: cannot read ${join(dir.path, 'nope.crt')}`);
  });
});
