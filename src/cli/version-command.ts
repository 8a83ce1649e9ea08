import { platformTarget, runtimeDescription } from '../runtime/index.ts';
import { FILAMENT_COMMIT, FILAMENT_VERSION } from '../sidecar/index.ts';
import { type CliIo, EXIT } from './cli-io.ts';
import { parseFlags } from './parse-flags.ts';

/** `filament version [--json]`: version, commit, runtime and target. */
export async function versionCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' } }, 'version');
  const facts = {
    version: FILAMENT_VERSION,
    commit: FILAMENT_COMMIT,
    runtime: runtimeDescription(),
    target: platformTarget(),
  };
  io.out(
    values.json
      ? JSON.stringify(facts)
      : `filament ${facts.version} (commit ${facts.commit}; ${facts.runtime}; ${facts.target})`,
  );
  return EXIT.ok;
}
