/**
 * The command line: one function a command, each returning an exit code.
 * @module
 */
import { type CliIo, EXIT, processIo, UsageError } from './cli-io.ts';
import { USAGE, usageOf } from './usage.ts';

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
  retire: async () => (await import('./retire-command.ts')).retireCommand,
  version: async () => (await import('./version-command.ts')).versionCommand,
};

/** Runs `filament <command> …` and returns the exit code; unexpected errors propagate. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  const topic = rest[0] !== undefined && /^[a-z]/.test(rest[0]) ? rest[0] : undefined;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && !topic)) {
    io.out(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = COMMANDS[name];
  try {
    if (name === 'help') return help(topic as string, rest[1], io);
    if (!load) throw new UsageError(`unknown command "${name}"`);
    if (rest.includes('--help') || rest.includes('-h')) return help(name, topic, io);
    return await (await load())(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`filament: ${error.message}\nRun "filament help" for usage.`);
    return EXIT.usage;
  }
}

/** Prints one command's usage (`filament CMD --help`, `filament help CMD`); exit 0. */
function help(command: string, sub: string | undefined, io: CliIo): number {
  const text = usageOf(command, sub);
  if (text === undefined) throw new UsageError(`unknown command "${command}"`);
  io.out(text);
  return EXIT.ok;
}
