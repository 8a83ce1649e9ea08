import { buildConfig, ConfigError, loadConfigFile } from '../config/index.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { parseFlags } from './parse-flags.ts';

/** `filament check-config FILE`: validates a config file, listing every problem. */
export async function checkConfigCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(argv, {}, 'check-config');
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('check-config: expected exactly one FILE');
  try {
    const config = buildConfig(await loadConfigFile(file));
    io.out(
      `ok: ${file} (replica ${config.identity.replica}, cluster ${config.identity.cluster}, tenants ${config.rules.tenants.join(', ')}, ` +
        `brokers ${config.broker.urls.join(', ')}, MQTT ${config.broker.protocol})`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`invalid: ${file}`);
    for (const problem of error.problems) io.err(`  ${problem}`);
    return EXIT.failed;
  }
}
