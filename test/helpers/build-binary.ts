import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..', '..');

/**
 * Compiles filament with `build/compile.ts` into `outfile` (for this machine's target).
 * @throws {Error} with the build's own error output when it fails.
 */
export function buildBinary(outfile: string): void {
  const build = spawnSync(
    process.execPath,
    [join(ROOT, 'build', 'compile.ts'), '--outfile', outfile],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
}
