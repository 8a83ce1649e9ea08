import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = join(import.meta.dir, '..', '..');

describe('the compiled binary', () => {
  let dir: { path: string; remove(): Promise<void> };
  let binary: string;

  beforeAll(async () => {
    dir = await tempDir('filament-binary-');
    binary = join(dir.path, 'filament');
    const build = spawnSync(
      process.execPath,
      [join(ROOT, 'build', 'compile.ts'), '--outfile', binary],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(build.status).toBe(0);
  });
  afterAll(() => dir.remove());

  const run = (...args: string[]) =>
    spawnSync(binary, args, { cwd: dir.path, encoding: 'utf8', timeout: 60_000 });

  test('lints rule sets from a directory with no node_modules and no sources', async () => {
    await copyFile(join(ROOT, 'examples', 'rules', 'acme.v1.json'), join(dir.path, 'rules.json'));
    const lint = run('rules', 'lint', 'rules.json');
    expect(lint.status).toBe(0);
    expect(lint.stdout).toContain('tenant acme version 1');
  });

  test('reports its version, commit, runtime and target', () => {
    const version = run('version', '--json');
    expect(version.status).toBe(0);
    const facts = JSON.parse(version.stdout);
    expect(facts).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      runtime: expect.stringMatching(/^bun \d/),
      target: `${process.platform}-${process.arch}`,
    });
    expect(facts.commit).toMatch(/^[0-9a-f]{7,}$|^unknown$/);
  });

  test('runs the demo end to end', () => {
    const demo = run('demo');
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('restored from disk: acme v2');
  });
});
