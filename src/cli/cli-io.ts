/** Where a command writes: standard output for results, standard error for diagnostics. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's own standard streams. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Exit codes: 0 success, 1 the input (config, rules, broker) was refused, 2 the command line was wrong. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2 });

/** Thrown for a malformed command line; printed with the usage hint and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
