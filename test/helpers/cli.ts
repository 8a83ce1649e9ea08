import { runCli } from '../../src/cli/index.ts';

/** What one in-process `filament` command printed and returned. */
export interface CliResult {
  readonly code: number;
  /** Standard output lines joined by newlines. */
  readonly out: string;
  readonly err: string;
}

/** Runs `filament ARGV…` in this process, capturing its output. */
export async function cli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
