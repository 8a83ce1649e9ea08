import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { decodeReport, type SaturationReport } from '../../src/report/index.ts';
import { NVIDIA_SMI_ARGS } from '../../src/saturation/collectors/index.ts';
import { buildBinary } from '../helpers/build-binary.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = join(import.meta.dir, '..', '..');

describe('the compiled binary', () => {
  let dir: { path: string; remove(): Promise<void> };
  let binary: string;

  beforeAll(async () => {
    dir = await tempDir('filament-binary-');
    binary = join(dir.path, 'filament');
    buildBinary(binary);
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

  test('reads no .env or bunfig.toml from its working directory', async () => {
    const cwd = join(dir.path, 'with-dotenv');
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, '.env'), 'RUNTIME_DIRECTORY=/from-dotenv\n');
    await writeFile(join(cwd, 'bunfig.toml'), 'preload = ["./missing-preload.ts"]\n');
    const status = spawnSync(binary, ['status'], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: {},
    });
    // With no flag it looks where the unit puts the socket first.
    expect(status.stderr).toContain(
      'cannot reach the sidecar on /run/filament/filament.sock: there is no socket there',
    );
    expect(status.stderr).not.toContain('from-dotenv');
    expect(status.status).toBe(1);
  });

  test('runs as the sidecar: SERVING over the socket, validates, reports (GPU via nvidia-smi on PATH), exits 0 on SIGTERM', async () => {
    const broker = await startMosquitto();
    const watcher = mqtt.connect(broker.url, { protocolVersion: 5 });
    const reports: SaturationReport[] = [];
    watcher.on('message', (_topic, payload) => {
      const report = decodeReport(new Uint8Array(payload));
      if (!('error' in report)) reports.push(report);
    });
    await new Promise<void>((resolve) =>
      watcher.on('connect', () =>
        watcher.subscribe('filament/v1/replicas/#', { qos: 1 }, () => resolve()),
      ),
    );
    const socket = join(dir.path, 'api.sock');
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      `[api]\nsocket = "${socket}"\n\n[[models]]\nid = "llama"\nversion = "2026-10-01"\n`,
    );
    // A stand-in nvidia-smi on PATH: two GPUs, answering only filament's exact query.
    const bin = join(dir.path, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, 'nvidia-smi'),
      `#!/bin/sh\n[ "$*" = "${NVIDIA_SMI_ARGS.join(' ')}" ] || { echo "unexpected query: $*" >&2; exit 2; }\nprintf 'index, utilization.gpu [%%], memory.used [MiB], memory.total [MiB]\\n0, 37 %%, 20480 MiB, 81920 MiB\\n1, 64 %%, 30720 MiB, 81920 MiB\\n'\n`,
    );
    await chmod(join(bin, 'nvidia-smi'), 0o755);
    const sidecar = startSidecarProcess(
      sidecarArgs({
        config,
        brokers: [broker.url],
        tenant: 'acme',
        replica: 'binary-host',
        stateDir: join(dir.path, 'state'),
      }),
      { PATH: `${bin}:${process.env.PATH}` },
      { path: binary, cwd: dir.path },
    );
    const client = grpcClients(`unix:${socket}`);
    try {
      await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'start-up');
      expect(await client.check('')).toEqual({ status: 'NOT_SERVING' });
      await publishOnce({
        url: broker.url,
        topic: rulesTopic('filament/v1', 'acme'),
        payload: jsonBytes(validationRuleSet(1)),
      });
      await waitFor(
        async () => ((await client.check('')).status === 'SERVING' ? true : undefined),
        'SERVING after the rules',
      );
      expect(await client.validate({ config: VALID_CONFIG_MESSAGE })).toMatchObject({ ok: true });
      expect(
        await client.validate({ config: { ...VALID_CONFIG_MESSAGE, model: 'gone' } }),
      ).toMatchObject({ ok: false });
      await waitFor(
        () =>
          reports.find(
            (r) => r.replica === 'binary-host' && r.ruleVersions?.acme === 1 && r.gpu === 0.64,
          ),
        'a saturation report carrying rule version 1 and the busiest GPU (64 %)',
      );
      expect(await sidecar.kill('SIGTERM')).toBe(0);
      await waitFor(
        () => reports.find((r) => r.replica === 'binary-host' && r.state === 'OFFLINE'),
        'the final OFFLINE report',
      );
      // Standard error is one JSON object per line, always: the runtime's own warnings too
      // (mqtt.js's url.parse() deprecation arrives as a "runtime warning" line, not as text).
      expect(sidecar.logs.filter((l) => l.level === 'raw')).toEqual([]);
    } finally {
      client.close();
      await sidecar.kill('SIGKILL');
      watcher.end(true);
      await broker.stop();
    }
  });

  test('build/install.sh places binary, unit and config idempotently, keeping an edited config', async () => {
    const root = join(dir.path, 'root');
    const install = () =>
      spawnSync('bash', [join(ROOT, 'build', 'install.sh'), '--binary', binary], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, DESTDIR: root },
      });
    const first = install();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout.match(/^installed /gm)).toHaveLength(3);
    const installed = join(root, 'usr', 'local', 'bin', 'filament');
    expect((await stat(installed)).mode & 0o777).toBe(0o755);
    const configFile = join(root, 'etc', 'filament', 'filament.toml');
    await writeFile(
      configFile,
      `${await readFile(configFile, 'utf8')}\n# edited by the operator\n`,
    );
    const second = install();
    expect(second.status).toBe(0);
    expect(second.stdout.match(/^unchanged /gm)).toHaveLength(2);
    expect(second.stdout).toContain('kept ');
    expect(await readFile(configFile, 'utf8')).toContain('# edited by the operator');
    expect(spawnSync(installed, ['check-config', configFile]).status).toBe(0);
  });

  test('runs the demo end to end', () => {
    const demo = run('demo');
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain('restored from disk: acme v2');
  });
});

describe('the arm64 binary', () => {
  const sysroot = '/usr/aarch64-linux-gnu';
  const qemu = spawnSync('qemu-aarch64-static', ['--version'], { encoding: 'utf8' });
  const missing = [
    ...(qemu.error ? ['qemu-aarch64-static (Debian qemu-user-static)'] : []),
    ...(existsSync(join(sysroot, 'lib'))
      ? []
      : [`${sysroot} (Debian libc6-arm64-cross libstdc++6-arm64-cross)`]),
  ];
  // Visible, never silent: without qemu-user or the arm64 libc it is skipped with the reason in its
  // name; in CI (which installs both through build/test-deps.sh) it runs, and fails if they are missing.
  const skipRun = missing.length > 0 && !process.env.CI;
  if (skipRun) console.warn(`arm64 binary not run: missing ${missing.join(', ')}`);
  let dir: { path: string; remove(): Promise<void> };
  let binary: string;

  beforeAll(async () => {
    dir = await tempDir('filament-arm64-');
    binary = join(dir.path, 'filament');
  });
  afterAll(() => dir.remove());

  test('cross-compiles from the lockfile-pinned runtime package, no download by bun build', async () => {
    const build = spawnSync(
      process.execPath,
      [join(ROOT, 'build', 'compile.ts'), '--target', 'bun-linux-arm64', '--outfile', binary],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(build.stderr).not.toContain('error');
    expect(build.status).toBe(0);
    const header = new Uint8Array(await readFile(binary)).subarray(0, 20);
    expect([...header.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
    expect(new DataView(header.buffer, header.byteOffset).getUint16(18, true)).toBe(0xb7); // EM_AARCH64
  }, 120_000);

  test.skipIf(skipRun)(
    `runs under qemu-user${skipRun ? ` [skipped: ${missing.join(', ')} missing; bash build/test-deps.sh installs them]` : ''}`,
    () => {
      expect(missing).toEqual([]);
      const run = spawnSync('qemu-aarch64-static', ['-L', sysroot, binary, 'version', '--json'], {
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toMatchObject({ target: 'linux-arm64' });
    },
    60_000,
  );
});
