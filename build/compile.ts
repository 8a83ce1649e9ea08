/**
 * Compiles filament into one self-contained executable with `bun build --compile`.
 *
 *   bun build/compile.ts [--outfile dist/filament] [--target bun-linux-x64|bun-linux-arm64]
 *
 * Uses the flags that start fastest (see STACK-NOTES: --minify --bytecode --format=esm).
 * Protos, schemas and example rules are imported as modules, so they are embedded and the
 * binary runs from any directory, with no node_modules and no source tree. The build commit is
 * stamped in (`filament version`). With `--target`, the runtime comes from the lockfile-pinned
 * npm package (see target-runtime.ts), never from a download by `bun build`.
 */
import { parseArgs } from 'node:util';
import { targetRuntime } from './target-runtime.ts';

const { values } = parseArgs({
  options: { outfile: { type: 'string', default: 'dist/filament' }, target: { type: 'string' } },
  strict: true,
});

const root = new URL('..', import.meta.url).pathname;
const commit =
  Bun.spawnSync(['git', 'rev-parse', '--short=12', 'HEAD'], { cwd: root })
    .stdout.toString()
    .trim() || 'unknown';
const args = [
  'build',
  '--compile',
  '--minify',
  '--bytecode',
  '--format=esm',
  `--define=FILAMENT_BUILD_COMMIT=${JSON.stringify(commit)}`,
  'src/main.ts',
  '--outfile',
  values.outfile as string,
];
if (values.target !== undefined)
  args.push(
    `--target=${values.target}`,
    `--compile-executable-path=${targetRuntime(root, values.target)}`,
  );
const build = Bun.spawnSync([process.execPath, ...args], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (build.exitCode !== 0) {
  console.error(`build/compile.ts: bun build failed with exit code ${build.exitCode}`);
  process.exit(build.exitCode ?? 1);
}
console.log(`built ${values.outfile}`);
