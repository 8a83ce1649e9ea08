import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from './config-error.ts';

/**
 * Parses TOML config text into a document (not yet validated).
 * @throws {ConfigError} naming the source, line and column of a syntax error.
 */
export function parseConfigText(text: string, source = 'config'): Record<string, unknown> {
  try {
    // Integers beyond 2^53 become BigInts, so the config check can name the field (smol-toml's
    // own refusal names only the line).
    return parse(text, { integersAsBigInt: 'asNeeded' }) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      throw new ConfigError(
        [`${source}:${error.line}:${error.column}: TOML syntax error: ${firstLine(error.message)}`],
        { cause: error },
      );
    }
    throw new ConfigError([`${source}: cannot parse: ${(error as Error).message}`], {
      cause: error,
    });
  }
}

/**
 * Reads and parses a TOML config file.
 * @throws {ConfigError} when the file cannot be read or is not valid TOML.
 */
export async function loadConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read config file: ${(error as Error).message}`], {
      cause: error,
    });
  }
  return parseConfigText(text, path);
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
