/**
 * The README's tour, step 2, as written: a release key made with `rules keygen`, the shipped
 * example rule sets published signed with `rules publish … --key`, and a sidecar that trusts the
 * key applying them (and refusing an unsigned one).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { cli } from '../helpers/cli.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = join(import.meta.dir, '..', '..');
const example = (name: string) => join(ROOT, 'examples', name);

let broker: MosquittoBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
let sidecar: SidecarProcess;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await tempDir('filament-tour-');
  expect((await cli('rules', 'keygen', 'release', '--dir', dir.path)).code).toBe(0);
  const config = join(dir.path, 'filament.toml');
  await writeFile(
    config,
    `[rules]\ntenants = ["acme"]\ntrusted_keys = ["${join(dir.path, 'release.pub')}"]\n[api]\nsocket = "${join(dir.path, 'api.sock')}"\n`,
  );
  sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      replica: 'tour-host',
      stateDir: join(dir.path, 'state'),
    }),
  );
  await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'start-up');
});

afterAll(async () => {
  await sidecar?.kill('SIGKILL');
  await broker?.stop();
  await dir?.remove();
});

describe('README tour, step 2: publish rules, signed', () => {
  for (const [file, version] of [
    ['rules/acme.v1.json', 1],
    ['rules/acme.v2.ts', 2],
  ] as const)
    test(`filament rules publish examples/${file} --key release.key: published, and the host applies v${version}`, async () => {
      const result = await cli(
        'rules',
        'publish',
        example(file),
        '--broker',
        broker.url,
        '--key',
        join(dir.path, 'release.key'),
      );
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(result.out).toContain(`published: tenant acme version ${version}`);
      await sidecar.waitForLog(
        (l) => l.msg === 'applied rule set' && l.version === version,
        `v${version} applied`,
      );
    });

  test('an unsigned set is refused by the host that trusts the key (and keeps its rules)', async () => {
    const unsigned = join(dir.path, 'acme.v3.json');
    const v1 = JSON.parse(await readFile(example('rules/acme.v1.json'), 'utf8'));
    await writeFile(unsigned, JSON.stringify({ ...v1, version: 3 }));
    expect((await cli('rules', 'publish', unsigned, '--broker', broker.url)).code).toBe(0);
    await sidecar.waitForLog(
      (l) => l.msg === 'rejected rule set' && l.code === 'UNSIGNED',
      'v3 refused UNSIGNED',
    );
  });
});
