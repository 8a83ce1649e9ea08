import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const EXPIRES = '2099-01-01T00:00:00Z';

// The operator's path end to end: keys made and sets signed with the CLI, published to a real
// broker, verified by `filament run` processes configured with the public keys.
describe('signed rule sets on a real stream (mosquitto)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: MosquittoBroker;
  const file = (name: string) => join(dir.path, name);

  // A broker per test rather than per file: bun 1.4's runner can kill every process a file
  // started when an earlier test's timer goes stale (oven-sh/bun#38774), and did so here.
  beforeAll(async () => {
    dir = await tempDir('filament-signed-');
  });
  beforeEach(async () => {
    broker = await startMosquitto();
  });
  afterEach(() => broker?.stop());
  afterAll(() => dir?.remove());

  async function writeSet(name: string, version: number, overrides = {}) {
    await writeFile(
      file(name),
      jsonBytes(ruleSet('acme', version, { expiresAt: EXPIRES, ...overrides })),
    );
    return file(name);
  }

  async function config(name: string, keys: string[], threshold = 1) {
    await writeFile(
      file(`${name}.toml`),
      [
        '[rules]',
        'tenants = ["acme"]',
        `trusted_keys = [${keys.map((k) => `"${k}"`).join(', ')}]`,
        `signature_threshold = ${threshold}`,
        '[api]',
        `socket = "${file(`${name}.sock`)}"`,
        '[saturation]',
        'nvidia_smi = "off"',
      ].join('\n'),
    );
    return file(`${name}.toml`);
  }

  const run = (cfg: string, stateDir: string) =>
    startSidecarProcess(
      sidecarArgs({ config: cfg, brokers: [broker.url], replica: 'signed', stateDir }),
    );

  test('keygen writes a private key only its owner can read, and never overwrites one', async () => {
    const made = await cli('rules', 'keygen', 'release-a', '--dir', dir.path);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^key id [0-9a-f]{16}: private key .*release-a\.key/);
    expect(statSync(file('release-a.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(file('release-a.pub'))).toBe(true);
    const again = await cli('rules', 'keygen', 'release-a', '--dir', dir.path);
    expect(again.code).toBe(1);
    expect(again.err).toContain('never overwritten');
    expect((await cli('rules', 'keygen', 'release-b', '--dir', dir.path)).code).toBe(0);
  });

  test('sign, then lint against the trusted keys: the right key passes, another fails', async () => {
    const bare = await writeSet('v1.json', 1);
    const signed = await cli(
      'rules',
      'sign',
      bare,
      '--key',
      file('release-a.key'),
      '--out',
      file('v1.signed.json'),
    );
    expect(signed.code).toBe(0);
    const envelope = JSON.parse(await readFile(file('v1.signed.json'), 'utf8'));
    expect(envelope.payloadType).toBe('application/vnd.filament.rule-set.v1+json');

    const good = await cli(
      'rules',
      'lint',
      file('v1.signed.json'),
      '--trusted-key',
      file('release-a.pub'),
    );
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/version 1: .*signed by [0-9a-f]{16}/);
    const bad = await cli(
      'rules',
      'lint',
      file('v1.signed.json'),
      '--trusted-key',
      file('release-b.pub'),
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('SIGNATURE');
    const unsigned = await cli('rules', 'lint', bare, '--trusted-key', file('release-a.pub'));
    expect(unsigned.err).toContain('UNSIGNED');

    await writeFile(file('no-expiry.json'), jsonBytes(ruleSet('acme', 1)));
    const noExpiry = await cli(
      'rules',
      'sign',
      file('no-expiry.json'),
      '--key',
      file('release-a.key'),
    );
    expect(noExpiry.code).toBe(1);
    expect(noExpiry.err).toContain('NO_EXPIRY');
  });

  test('a sidecar trusting a key applies what that key signed and refuses the rest', async () => {
    const cfg = await config('verify', [file('release-a.pub')]);
    const sidecar = run(cfg, file('state-verify'));
    try {
      await sidecar.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
      const unsigned = await cli(
        'rules',
        'publish',
        await writeSet('v2.json', 2),
        '--broker',
        broker.url,
      );
      expect(unsigned.code).toBe(0);
      const nack = await sidecar.waitForLog((l) => l.msg === 'rejected rule set', 'the NACK');
      expect(nack.code).toBe('UNSIGNED');

      const published = await cli(
        'rules',
        'publish',
        file('v2.json'),
        '--broker',
        broker.url,
        '--key',
        file('release-a.key'),
      );
      expect(published.out).toContain('signed json');
      const applied = await sidecar.waitForLog(
        (l) => l.msg === 'applied rule set' && l.version === 2,
        'the signed set',
      );
      expect(applied.version).toBe(2);

      const status = await cli('status', '--socket', file('verify.sock'));
      expect(status.out).toMatch(/rules\s+signed by 1 of 1 trusted key/);
      expect(status.out).toMatch(/acme\s+v2\s+v2\s+v2\s+[0-9a-f]{16}/);
    } finally {
      await sidecar.kill('SIGTERM');
    }
    // Restart: the signed set comes back from disk first, its signature checked again.
    const again = run(cfg, file('state-verify'));
    try {
      const restored = await again.waitForLog(
        (l) => l.msg === 'restored last-known-good rules',
        'the restore',
      );
      expect(restored.version).toBe(2);
      // Rollback after a restart: an older set, validly signed, retained on the broker (a
      // publisher who means it: `rules publish` refuses to go backwards without --force).
      await again.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
      await cli(
        'rules',
        'publish',
        file('v1.json'),
        '--broker',
        broker.url,
        '--key',
        file('release-a.key'),
        '--force',
      );
      const nack = await again.waitForLog(
        (l) => l.msg === 'rejected rule set',
        'the rollback NACK',
      );
      expect(nack.code).toBe('VERSION_REGRESSION');
      const metrics = await fetch(`http://${await metricsAddress(again)}/metrics`).then((r) =>
        r.text(),
      );
      expect(metrics).toContain('filament_rules_trusted_keys 1');
    } finally {
      await again.kill('SIGTERM');
    }
  });

  test('fast-forward: an absurd version signed by a key later rotated out does not block the new key', async () => {
    const state = file('state-ff');
    const absurd = await writeSet('absurd.json', Number.MAX_SAFE_INTEGER);
    const before = run(await config('ff-old', [file('release-a.pub')]), state);
    try {
      await before.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
      await cli('rules', 'publish', absurd, '--broker', broker.url, '--key', file('release-a.key'));
      await before.waitForLog(
        (l) => l.msg === 'applied rule set' && l.version === Number.MAX_SAFE_INTEGER,
        'the absurd version',
      );
    } finally {
      await before.kill('SIGTERM');
    }
    // Recovery: rotate release-a out, publish a sane version signed by release-b (below the
    // absurd one the old host ACKed: only with --force).
    const refused = await cli(
      'rules',
      'publish',
      await writeSet('v3.json', 3),
      '--broker',
      broker.url,
      '--key',
      file('release-b.key'),
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`replica(s) run v${Number.MAX_SAFE_INTEGER}`);
    await cli(
      'rules',
      'publish',
      file('v3.json'),
      '--broker',
      broker.url,
      '--key',
      file('release-b.key'),
      '--force',
    );
    const after = run(await config('ff-new', [file('release-b.pub')]), state);
    try {
      const setAside = await after.waitForLog(
        (l) => l.msg === 'trust root changed: set aside the old rules and their version floor',
        'the set-aside',
      );
      expect(setAside.highWater).toBe(Number.MAX_SAFE_INTEGER);
      const applied = await after.waitForLog(
        (l) => l.msg === 'applied rule set' && l.version === 3,
        'the new key’s set',
      );
      expect(applied.version).toBe(3);
      expect(existsSync(join(state, 'rules', 'acme.hwm.untrusted'))).toBe(true);
    } finally {
      await after.kill('SIGTERM');
    }
  });

  test('a private key given as a trusted key stops start-up with the reason', async () => {
    const cfg = await config('bad-key', [file('release-a.key')]);
    const started = await cli(
      'run',
      ...sidecarArgs({
        config: cfg,
        brokers: [broker.url],
        replica: 'bad',
        stateDir: file('state-bad'),
      }),
    );
    expect(started.code).toBe(1);
    expect(started.err).toContain(`rules.trusted_keys: ${file('release-a.key')}: is a private key`);
  });
});

/** host:port of a sidecar's /metrics, from its log. */
async function metricsAddress(p: SidecarProcess): Promise<string> {
  return new URL(await metricsUrl(p)).host;
}
