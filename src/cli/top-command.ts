import { DEFAULT_TOPIC_PREFIX } from '../mqtt/index.ts';
import { Resolver } from '../resolver/index.ts';
import { renderFleet } from '../terminal-tables/index.ts';
import { CREDENTIAL_FLAGS, credentialsOrSay } from './broker-credentials.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { BROKER_FLAGS, brokerFlag, parseFlags, protocolFlag } from './parse-flags.ts';

/**
 * `filament top --broker URL [--cluster C] [--interval MS] [--once [--wait MS]]`: a live table
 * of the fleet from the saturation reports, redrawn in place (plain ANSI, fine over ssh) until
 * Ctrl-C. `--once` prints one table after `--wait` ms (default 1500) and exits, for scripts.
 */
export async function topCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      ...BROKER_FLAGS,
      ...CREDENTIAL_FLAGS,
      cluster: { type: 'string' },
      interval: { type: 'string' },
      once: { type: 'boolean' },
      wait: { type: 'string' },
    },
    'top',
  );
  const urls = brokerFlag(values.broker, 'top');
  const protocolVersion = protocolFlag(values.protocol, 'top');
  const intervalMs = Number(values.interval ?? 500);
  const waitMs = Number(values.wait ?? 1500);
  if (!(intervalMs >= 50) || !(waitMs >= 0))
    throw new UsageError('top: --interval must be ≥ 50 and --wait ≥ 0 (milliseconds)');
  const credentials = await credentialsOrSay(values, 'top', io.err);
  if (credentials === null) return EXIT.failed;
  const resolver = new Resolver({
    urls,
    topicPrefix: values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX,
    protocolVersion,
    ...credentials,
  });
  resolver.start();
  const table = () => {
    const replicas = resolver
      .replicas()
      .filter((r) => values.cluster === undefined || r.report.cluster === values.cluster);
    return replicas.length === 0
      ? 'no replicas have reported yet'
      : renderFleet(replicas, Date.now());
  };
  try {
    if (values.once) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      io.out(table());
      return EXIT.ok;
    }
    await new Promise<void>((resolve) => {
      const draw = () =>
        process.stdout.write(
          `\x1b[H\x1b[2J${new Date().toISOString()}  ${urls[0]}  (Ctrl-C to quit)\n\n${table()}\n`,
        );
      draw();
      const timer = setInterval(draw, intervalMs);
      process.once('SIGINT', () => {
        clearInterval(timer);
        resolve();
      });
    });
    return EXIT.ok;
  } finally {
    await resolver.stop();
  }
}
