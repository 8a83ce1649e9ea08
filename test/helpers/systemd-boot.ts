import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from './temp-dir.ts';
import { waitFor } from './wait.ts';

/** A character device node to create in the booted system's /dev. */
export interface DeviceNode {
  path: string;
  /** Octal permission bits, e.g. `666`. */
  mode: string;
  major: number;
  minor: number;
}

/** What to boot: unit files by name, the /proc/devices it sees, the /dev nodes and files for /run. */
export interface BootPlan {
  /** Unit files by name; `boot.target` is started. Stub targets for default dependencies are added. */
  units: Record<string, string>;
  /** The text of /proc/devices inside (DeviceAllow=char-NAME resolves names through it). */
  procDevices: string;
  nodes: DeviceNode[];
  /** Files placed under /run inside, by path relative to /run. */
  run: Record<string, string>;
  /**
   * Files copied under /run inside (path relative to /run → file here), e.g. the executable a
   * unit runs: with PrivateTmp=yes a unit cannot see one that lives under /tmp.
   */
  copies?: Record<string, string>;
  /** Done when the file named by `{{OUT}}` in a unit satisfies this. */
  done(output: string): boolean;
}

/** What came out: the file units wrote through `StandardOutput=file:{{OUT}}`, and systemd's log. */
export interface BootResult {
  output: string;
  log: string;
}

const SCRIPT = join(import.meta.dir, '..', 'systemd', 'boot-unit.sh');
const STUB_TARGETS = ['sysinit', 'basic', 'shutdown', 'network-online', 'multi-user'];

/**
 * Boots a real systemd (PID 1 of its own namespaces; see test/systemd/boot-unit.sh) with the plan's
 * units, waits until `done` holds for their output (or 30 s), then kills the namespace and removes
 * the cgroups it made. Needs root, util-linux's unshare and systemd's binary.
 */
export async function bootUnits(plan: BootPlan): Promise<BootResult> {
  if (process.getuid?.() !== 0)
    throw new Error('booting systemd in private namespaces needs root: run the tests as root');
  const dir = await tempDir('filament-boot-');
  const out = join(dir.path, 'out');
  const cgroups = await ownCgroups(`filament-boot-${process.pid}-${Date.now()}`);
  let child: ChildProcess | undefined;
  try {
    await writeFile(join(dir.path, 'systemd.log'), '');
    await writeFile(join(dir.path, 'proc-devices'), plan.procDevices);
    await writeFile(
      join(dir.path, 'nodes'),
      plan.nodes.map((n) => `${n.path} ${n.mode} ${n.major} ${n.minor}\n`).join(''),
    );
    await mkdir(join(dir.path, 'units'));
    const units: Record<string, string> = {
      'system.slice': '[Unit]\nDescription=system slice\n',
      ...Object.fromEntries(
        STUB_TARGETS.map((t) => [`${t}.target`, `[Unit]\nDescription=${t} (stub)\n`]),
      ),
      ...plan.units,
    };
    for (const [name, text] of Object.entries(units))
      await writeFile(join(dir.path, 'units', name), text.replaceAll('{{OUT}}', out));
    for (const [path, text] of Object.entries(plan.run)) {
      const file = join(dir.path, 'run', path);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, text);
    }
    for (const [path, source] of Object.entries(plan.copies ?? {})) {
      const file = join(dir.path, 'run', path);
      await mkdir(join(file, '..'), { recursive: true });
      await copyFile(source, file);
    }
    const enter = cgroups.map((c) => `echo $$ > '${c}/cgroup.procs'`).join('; ');
    child = spawn(
      'sh',
      [
        '-c',
        `${enter}; exec unshare --cgroup --pid --fork --mount --mount-proc --net --uts --ipc --kill-child sh '${SCRIPT}' '${dir.path}'`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
    const log = () => readFile(join(dir.path, 'systemd.log'), 'utf8').catch(() => '');
    try {
      const output = await waitFor(
        async () => {
          if (child?.exitCode !== null) throw new Error(`the boot script exited: ${stderr}`);
          const text = existsSync(out) ? await readFile(out, 'utf8') : '';
          return plan.done(text) ? text : undefined;
        },
        'the booted units to finish',
        30_000,
        50,
      );
      return { output, log: await log() };
    } catch (error) {
      const tail = (await log()).split('\n').slice(-40).join('\n');
      throw new Error(`${(error as Error).message}\n--- systemd's log, last lines ---\n${tail}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  } finally {
    await removeCgroups(cgroups);
    await dir.remove();
  }
}

/**
 * Makes a child cgroup named `name` under this process's cgroup in every hierarchy it can enter
 * (cgroup v1 cpuset is skipped: a new one has no CPUs), so the booted systemd's cgroups live below
 * them and go away with them.
 */
async function ownCgroups(name: string): Promise<string[]> {
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2');
  const dirs: string[] = [];
  for (const line of (await readFile('/proc/self/cgroup', 'utf8')).trim().split('\n')) {
    const [, controllers = '', path = '/'] = line.split(':');
    const mount =
      controllers === ''
        ? mounts.find((f) => f[2] === 'cgroup2')
        : mounts.find((f) => f[2] === 'cgroup' && (f[3] ?? '').split(',').includes(controllers));
    if (!mount?.[1] || controllers === 'cpuset') continue;
    const dir = join(mount[1], path, name);
    await mkdir(dir);
    dirs.push(dir);
  }
  return dirs;
}

/** Removes each cgroup and everything systemd made below it, deepest first, once they are empty. */
async function removeCgroups(dirs: string[]): Promise<void> {
  const below = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const children = entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
    return [...(await Promise.all(children.map(below))).flat(), dir];
  };
  for (const dir of dirs) {
    for (const each of await below(dir)) {
      await waitFor(
        () =>
          rmdir(each).then(
            () => true,
            (error: NodeJS.ErrnoException) => (error.code === 'EBUSY' ? undefined : true),
          ),
        `cgroup ${each} to empty`,
        10_000,
      );
    }
  }
}
