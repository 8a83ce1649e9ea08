import { buildConfig, type Config, ConfigError, loadConfigFile } from '../config/index.ts';
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
        `brokers ${config.broker.urls.join(', ')}, MQTT ${config.broker.protocol}; ${describeInventory(config)})`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`invalid: ${file}`);
    for (const problem of error.problems) io.err(`  ${problem}`);
    return EXIT.failed;
  }
}

/** Where the loaded models come from, as check-config says it. */
function describeInventory(config: Config): string {
  const i = config.inventory;
  if (i.source === 'static') return `models: the ${config.models.length} of [[models]]`;
  if (i.source === 'push') return 'models: declared by the model server (DeclareModels)';
  const must =
    config.models.length > 0 ? `, ${config.models.length} of them required by [[models]]` : '';
  return `models: asked of ${i.source} at ${i.url} every ${i.pollIntervalMs / 1000} s${must}`;
}
