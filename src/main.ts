#!/usr/bin/env bun
/**
 * filament's entry point (also what the binary is compiled from): parse the command line,
 * run the command, exit with its code.
 * @module
 */
import { runCli } from './cli/index.ts';

try {
  process.exitCode = await runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`filament: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
}
