import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultReplica } from '../../src/config/index.ts';
import { buildBinary } from '../helpers/build-binary.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = join(import.meta.dir, '..', '..');
const isRoot = process.getuid?.() === 0;
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
let dir: Awaited<ReturnType<typeof tempDir>>;
const debs: Record<string, string> = {};

/** Builds the .deb from `binary` into the temp dir; returns its path. */
function deb(arch: string, binary: string, revision = '1'): string {
  const built = run(process.execPath, [
    join(ROOT, 'build/deb.ts'),
    '--arch',
    arch,
    '--binary',
    binary,
    '--out',
    dir.path,
    '--revision',
    revision,
    '--fast',
  ]);
  if (built.status !== 0) throw new Error(built.stderr);
  return built.stdout.trim();
}

/** A chroot with just what the maintainer scripts and the binary need: sh, rm, their libraries. */
function scratchRoot(path: string, binaries: string[]): void {
  for (const sub of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'tmp'])
    mkdirSync(join(path, sub), { recursive: true });
  appendFileSync(join(path, 'var/lib/dpkg/status'), '');
  for (const file of binaries) {
    const libs = run('ldd', [file]).stdout.match(/\/\S+/g) ?? [];
    for (const f of [file, ...libs]) {
      const real = run('readlink', ['-f', f]).stdout.trim();
      mkdirSync(dirname(join(path, f)), { recursive: true });
      if (!existsSync(join(path, f))) copyFileSync(real, join(path, f));
    }
  }
}

beforeAll(async () => {
  dir = await tempDir('filament-deb-test-');
  buildBinary(join(dir.path, 'filament'));
  debs.amd64 = deb('amd64', join(dir.path, 'filament'));
  const arm = run(process.execPath, [
    join(ROOT, 'build/compile.ts'),
    '--target',
    'bun-linux-arm64',
    '--outfile',
    join(dir.path, 'filament-arm64'),
  ]);
  if (arm.status !== 0) throw new Error(arm.stderr);
  debs.arm64 = deb('arm64', join(dir.path, 'filament-arm64'));
}, 180_000);
afterAll(() => dir.remove());

describe('the Debian package', () => {
  test('lists the binary, the unit, the conffile and the docs, for amd64 and arm64', () => {
    for (const [arch, path] of Object.entries(debs)) {
      const contents = run('dpkg-deb', ['--contents', path]).stdout;
      for (const file of [
        './usr/bin/filament',
        './lib/systemd/system/filament.service',
        './etc/filament/filament.toml',
        './usr/share/doc/filament/copyright',
        './usr/share/doc/filament/changelog.Debian.gz',
        './usr/share/lintian/overrides/filament',
      ])
        expect(contents).toContain(file);
      expect(run('dpkg-deb', ['--field', path, 'Architecture']).stdout.trim()).toBe(arch);
      expect(run('dpkg-deb', ['--info', path, 'conffiles']).stdout).toContain(
        '/etc/filament/filament.toml',
      );
    }
  });

  test('lintian finds no errors', () => {
    for (const path of Object.values(debs)) {
      const lint = run('lintian', ['--tag-display-limit', '0', path]);
      expect(lint.stdout.split('\n').filter((l) => l.startsWith('E:'))).toEqual([]);
      expect(lint.status).toBe(0);
    }
  }, 180_000);

  test.skipIf(!isRoot)(
    'installs into a chroot where filament runs; an upgrade keeps an edited config; remove keeps it, purge removes it (needs root for chroot)',
    () => {
      const root = join(dir.path, 'root');
      scratchRoot(root, ['/bin/sh', '/bin/rm', join(dir.path, 'filament')]);
      const dpkg = (...args: string[]) =>
        run('dpkg', [`--root=${root}`, '--force-depends', ...args]);
      const installed = dpkg('-i', debs.amd64 as string);
      // (The scratch root has no libc6 package, only the library: --force-depends says so.)
      expect(installed.stderr).not.toMatch(/error|unable/i);
      expect(installed.status).toBe(0);
      // Bun reads its own executable through /proc: a chroot needs one, as a container has.
      mkdirSync(join(root, 'proc'), { recursive: true });
      expect(run('mount', ['-t', 'proc', 'proc', join(root, 'proc')]).status).toBe(0);
      let version: ReturnType<typeof run>;
      let started: ReturnType<typeof run>;
      try {
        version = run('chroot', [root, '/usr/bin/filament', 'version']);
        // The shipped config, as installed, starts a sidecar named after this host (a fleet
        // installing one package must not share one replica name, its MQTT client id). It runs
        // until the time-out stops it; no broker is needed to start.
        started = spawnSync(
          'chroot',
          [
            root,
            '/usr/bin/filament',
            'run',
            '--config',
            '/etc/filament/filament.toml',
            '--metrics-listen',
            '127.0.0.1:0',
          ],
          { encoding: 'utf8', timeout: 4_000, killSignal: 'SIGTERM' },
        );
      } finally {
        run('umount', [join(root, 'proc')]);
      }
      const startLine = started.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; replica?: string; clientId?: string })
        .find((l) => l.msg === 'sidecar started');
      expect(startLine?.replica ?? started.stderr).toBe(defaultReplica(hostname()));
      expect(version.stderr).toBe('');
      expect(version.stdout).toMatch(/^filament 0\.1\.0 /);
      const unit = readFileSync(join(root, 'lib/systemd/system/filament.service'), 'utf8');
      expect(unit).toContain('ExecStart=/usr/bin/filament run');
      // The operator edits the config; the next package version must keep the edit.
      const config = join(root, 'etc/filament/filament.toml');
      appendFileSync(config, '\n# edited by the operator\n');
      const upgraded = dpkg('-i', deb('amd64', join(dir.path, 'filament'), '2'));
      expect(upgraded.status).toBe(0);
      expect(
        run('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', 'filament']).stdout,
      ).toContain('0.1.0-2');
      expect(readFileSync(config, 'utf8')).toContain('# edited by the operator');
      expect(dpkg('-r', 'filament').status).toBe(0);
      expect(existsSync(join(root, 'usr/bin/filament'))).toBe(false);
      expect(existsSync(config)).toBe(true);
      expect(dpkg('-P', 'filament').status).toBe(0);
      expect(existsSync(config)).toBe(false);
    },
    180_000,
  );
});
