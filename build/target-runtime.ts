/**
 * The Bun runtime a cross-compiled binary is built on, taken from the npm package the lockfile
 * pins (`@oven/bun-linux-aarch64` for arm64), so `bun build --compile --target=…` never fetches
 * a runtime from GitHub. Order: an installed copy in node_modules (on a machine of that
 * architecture), a copy already unpacked under `dist/.runtimes/`, else `npm pack` of exactly the
 * locked version (served from npm's cache when it is there), checked against the lockfile's
 * integrity before it is unpacked.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** npm package holding the Bun runtime of each `--target`. */
const RUNTIME_PACKAGES: Record<string, string> = {
  'bun-linux-x64': '@oven/bun-linux-x64',
  'bun-linux-arm64': '@oven/bun-linux-aarch64',
};

/** Supported `--target` values. */
export const TARGETS = Object.keys(RUNTIME_PACKAGES);

/**
 * The path of the `bun` executable for `target`, fetched and verified as described above.
 * @throws {Error} for an unknown target, a package missing from the lockfile, or an integrity
 *   mismatch.
 */
export function targetRuntime(root: string, target: string): string {
  const name = RUNTIME_PACKAGES[target];
  if (name === undefined)
    throw new Error(`unknown target "${target}" (known: ${TARGETS.join(', ')})`);
  const installed = join(root, 'node_modules', name, 'bin', 'bun');
  if (existsSync(installed)) return installed;
  const { version, integrity } = lockedPackage(root, name);
  const dir = join(root, 'dist', '.runtimes', `${name.replace('/', '+')}-${version}`);
  const unpacked = join(dir, 'package', 'bin', 'bun');
  if (existsSync(unpacked)) return unpacked;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pack = run(
    ['npm', 'pack', `${name}@${version}`, '--prefer-offline', '--json', '--pack-destination', dir],
    root,
  );
  const [packed] = JSON.parse(pack) as Array<{ filename: string; integrity: string }>;
  if (!packed || packed.integrity !== integrity)
    throw new Error(
      `${name}@${version}: integrity ${packed?.integrity} does not match the lockfile's ${integrity}`,
    );
  run(['tar', '-xzf', packed.filename], dir);
  rmSync(join(dir, packed.filename));
  return unpacked;
}

function lockedPackage(root: string, name: string): { version: string; integrity: string } {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity)
    throw new Error(`${name} is not in package-lock.json (it comes with the bun dev dependency)`);
  return { version: entry.version, integrity: entry.integrity };
}

function run(argv: string[], cwd: string): string {
  const result = Bun.spawnSync(argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.exitCode !== 0)
    throw new Error(`${argv.join(' ')} failed: ${result.stderr.toString().trim()}`);
  return result.stdout.toString();
}
