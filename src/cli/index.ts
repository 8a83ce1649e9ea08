/**
 * The command line: one function a command, each returning an exit code.
 * @module
 */
import { type CliIo, EXIT, processIo, UsageError } from './cli-io.ts';
import { USAGE } from './usage.ts';

export { type CliIo, EXIT, processIo, UsageError } from './cli-io.ts';

type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/**
 * Each command's module is loaded when that command runs, so `filament run` never evaluates (nor
 * keeps in memory) the demo's in-process broker, `top`'s renderer or the publishing tools.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command.ts')).runCommand,
  'check-config': async () => (await import('./check-config-command.ts')).checkConfigCommand,
  rules: async () => (await import('./rules-command.ts')).rulesCommand,
  demo: async () => (await import('./demo-command.ts')).demoCommand,
  status: async () => (await import('./status-command.ts')).statusCommand,
  top: async () => (await import('./top-command.ts')).topCommand,
  version: async () => (await import('./version-command.ts')).versionCommand,
};

/** Runs `filament <command> …` and returns the exit code; unexpected errors propagate. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = COMMANDS[name];
  try {
    if (!load) throw new UsageError(`unknown command "${name}"`);
    return await (await load())(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`filament: ${error.message}\nRun "filament help" for usage.`);
    return EXIT.usage;
  }
}
