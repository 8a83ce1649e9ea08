/**
 * The command line: one function a command, each returning an exit code.
 * @module
 */
import { checkConfigCommand } from './check-config-command.ts';
import { type CliIo, EXIT, processIo, UsageError } from './cli-io.ts';
import { demoCommand } from './demo-command.ts';
import { rulesCommand } from './rules-command.ts';
import { runCommand } from './run-command.ts';
import { statusCommand } from './status-command.ts';
import { topCommand } from './top-command.ts';
import { USAGE } from './usage.ts';
import { versionCommand } from './version-command.ts';

export { type CliIo, EXIT, processIo, UsageError } from './cli-io.ts';

const COMMANDS: Record<string, (argv: readonly string[], io: CliIo) => Promise<number>> = {
  run: runCommand,
  'check-config': checkConfigCommand,
  rules: rulesCommand,
  demo: demoCommand,
  status: statusCommand,
  top: topCommand,
  version: versionCommand,
};

/** Runs `filament <command> …` and returns the exit code; unexpected errors propagate. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command(rest, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`filament: ${error.message}\nRun "filament help" for usage.`);
    return EXIT.usage;
  }
}
