import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './wait.ts';

const MAIN = join(import.meta.dir, '..', '..', 'src', 'main.ts');

/** One structured log line of the sidecar. */
export type LogLine = Record<string, unknown> & { msg: string; level: string };

/** A real `filament run` process started by a test. */
export interface SidecarProcess {
  readonly logs: LogLine[];
  /** Resolves with the first log line (already seen or still to come) that `match` accepts. */
  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and resolves with the exit code or signal once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  readonly exited: Promise<number | string>;
  readonly pid: number;
}

/**
 * Starts `bun src/main.ts run ARGS…` (or `executable run ARGS…`, e.g. the compiled binary), with
 * `env` added to this process's environment, and collects its JSON log lines from standard error.
 */
export function startSidecarProcess(
  args: readonly string[],
  env: Record<string, string> = {},
  executable?: { readonly path: string; readonly cwd: string },
): SidecarProcess {
  const [command, argv] = executable
    ? [executable.path, ['run', ...args]]
    : [process.execPath, [MAIN, 'run', ...args]];
  const child: ChildProcess = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    ...(executable ? { cwd: executable.cwd } : {}),
  });
  const logs: LogLine[] = [];
  let buffered = '';
  child.stderr?.on('data', (chunk) => {
    buffered += String(chunk);
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 'raw', msg: line });
      }
      nl = buffered.indexOf('\n');
    }
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    logs,
    pid: child.pid ?? -1,
    exited,
    waitForLog: (match, what, timeoutMs = 10_000) =>
      waitFor(() => logs.find(match), what, timeoutMs).catch((error: Error) => {
        // What the process said last is usually why it never said what was awaited.
        const last = logs.slice(-6).map((l) => JSON.stringify(l).slice(0, 300));
        throw new Error(`${error.message}; its last log lines:\n  ${last.join('\n  ')}`);
      }),
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The `/metrics` URL a sidecar process logged when it started listening. */
export async function metricsUrl(p: SidecarProcess): Promise<string> {
  return String(
    (await p.waitForLog((l) => l.msg === 'metrics listening', 'the metrics address')).url,
  );
}

/** The usual flags of `filament run` in tests; cluster defaults to `gpu-east`. */
export interface SidecarArgs {
  readonly brokers: readonly string[];
  readonly tenant?: string;
  readonly replica?: string;
  readonly cluster?: string;
  readonly stateDir: string;
  readonly protocol?: '5' | '3.1.1';
  readonly config?: string;
}

/** Builds the command line of `filament run` from {@linkcode SidecarArgs}. */
export function sidecarArgs(a: SidecarArgs): string[] {
  const args = a.config ? ['--config', a.config] : [];
  for (const url of a.brokers) args.push('--broker', url);
  if (a.tenant) args.push('--tenant', a.tenant);
  if (a.replica) args.push('--replica', a.replica);
  args.push('--cluster', a.cluster ?? 'gpu-east', '--state-dir', a.stateDir);
  if (a.protocol) args.push('--protocol', a.protocol);
  // Many sidecars share this machine in tests: never the fixed default metrics port.
  args.push('--metrics-listen', '127.0.0.1:0');
  return args;
}
