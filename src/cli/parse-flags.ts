import { type ParseArgsConfig, parseArgs } from 'node:util';
import { BROKER_URL_PATTERN, brokerUrlProblem } from '../config/index.ts';
import { UsageError } from './cli-io.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `argv` strictly with `node:util.parseArgs` (unknown flags are errors) and returns the
 * values plus positionals.
 * @throws {UsageError} naming the offending flag.
 */
export function parseFlags<T extends Options>(
  argv: readonly string[],
  options: T,
  command: string,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
}

/** The flags shared by every command that talks to a broker. */
export const BROKER_FLAGS = {
  broker: { type: 'string', multiple: true },
  protocol: { type: 'string' },
  'topic-prefix': { type: 'string' },
} as const satisfies Options;

/**
 * The MQTT protocol version `--protocol` asks for (`5`, the default, or `3.1.1`).
 * @throws {UsageError} for anything else.
 */
export function protocolFlag(value: string | undefined, command: string): 4 | 5 {
  const protocol = value ?? '5';
  if (protocol !== '5' && protocol !== '3.1.1')
    throw new UsageError(`${command}: --protocol must be 5 or 3.1.1, got "${protocol}"`);
  return protocol === '5' ? 5 : 4;
}

/**
 * The `--broker` URLs a command was given, each checked (host, port) as `filament run` checks
 * them. @throws {UsageError} when there are none or one is wrong, naming it.
 */
export function brokerFlag(urls: readonly string[] | undefined, command: string): string[] {
  if (urls === undefined || urls.length === 0)
    throw new UsageError(`${command}: --broker URL is required`);
  for (const url of urls) {
    const problem = BROKER_URL_PATTERN.test(url)
      ? brokerUrlProblem(url)
      : 'is not an mqtt://, mqtts://, ws:// or wss:// URL';
    if (problem) throw new UsageError(`${command}: --broker ${url}: ${problem}`);
  }
  return [...urls];
}
