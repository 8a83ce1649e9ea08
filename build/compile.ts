/**
 * Compiles filament into one self-contained executable with `bun build --compile`.
 *
 *   bun build/compile.ts [--outfile dist/filament] [--target bun-linux-x64|bun-linux-arm64]
 *
 * Uses the flags that start fastest (see STACK-NOTES: --minify --bytecode --format=esm), and
 * turns off the runtime's autoloading of `.env` and `bunfig.toml` from the working directory: a
 * host service takes its settings from its config file and unit, not from wherever it runs. The
 * binary runs with raised JIT tier-up thresholds (see JIT_POLICY).
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

/**
 * JavaScriptCore's tier-up thresholds are scaled by this for the life of the process: code that
 * runs once (start-up) or now and then (timers, reports) stays in the interpreter and baseline
 * JIT instead of being compiled by the optimising JITs, whose own code is then never paged in.
 * Measured on the binary: exec → SERVING 65 → ≈ 52 ms, idle RSS 66 → ≈ 61 MB (with the normal
 * policy restored once ready, 64 MB: timers tier up while idle). Hot paths still reach the
 * optimising JITs, after 20× the calls: in `BENCH_BINARY=dist/filament bun run bench:api` the
 * streaming and batched rates are unchanged (107k/s, 528k/s), while unary latency in the first
 * few thousand calls is ≈ 40 µs higher until they warm up.
 */
const JIT_POLICY = 20;

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
  `--compile-jit-policy=${JIT_POLICY}`,
  '--no-compile-autoload-dotenv',
  '--no-compile-autoload-bunfig',
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
