import { runDemo } from '../demo/index.ts';
import { type CliIo, EXIT } from './cli-io.ts';
import { parseFlags } from './parse-flags.ts';

/** `filament demo`: the zero-install walk-through (see `src/demo/`). */
export async function demoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { 'in-process-broker': { type: 'boolean' } }, 'demo');
  await runDemo((line) => io.out(line), { inProcessBroker: values['in-process-broker'] === true });
  return EXIT.ok;
}
