import { type ChildProcess, spawn } from 'node:child_process';
import { waitForPort } from './free-port.ts';

/** A server process (a broker) that this process started, restartable with the same arguments. */
export interface ServerProcess {
  /** Starts it and waits until `port` accepts connections. @throws {Error} if it exits first or never listens. */
  start(): Promise<void>;
  /** SIGTERM (after SIGCONT, in case it is paused), then SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal that leaves it running: freeze or thaw without closing sockets, or reload. */
  signal(name: ServerSignal): void;
}

/** Signals a server is sent without being stopped: freeze, thaw, reload its configuration. */
export type ServerSignal = 'SIGSTOP' | 'SIGCONT' | 'SIGHUP';

/** Describes a server process for {@linkcode serverProcess}: what to run and which port means "up". */
export interface ServerSpec {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly startTimeoutMs?: number;
}

/** Wraps a server binary in start/stop/signal, collecting its stderr for error messages. */
export function serverProcess(spec: ServerSpec): ServerProcess {
  let child: ChildProcess | null = null;
  return {
    async start() {
      const proc = spawn(spec.binary, [...spec.args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr?.on('data', (chunk) => {
        stderr += String(chunk);
      });
      const exited = new Promise<never>((_, reject) => {
        proc.once('error', (error) =>
          reject(new Error(`${spec.name} did not start: ${error.message}`)),
        );
        proc.once('exit', (code) =>
          reject(new Error(`${spec.name} exited with ${code}: ${stderr.trim()}`)),
        );
      });
      exited.catch(() => {});
      await Promise.race([waitForPort(spec.port, spec.startTimeoutMs ?? 10_000), exited]);
      child = proc;
    },
    async stop(graceMs = 3000) {
      const proc = child;
      child = null;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      sendSignal(proc, 'SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
    signal: (name) => sendSignal(child, name),
  };
}

/**
 * Sends a job-control signal by pid. Deno's `ChildProcess.kill` records any signal as the
 * process's death and then refuses to send SIGTERM, so these go through `process.kill`.
 */
function sendSignal(proc: ChildProcess | null, name: ServerSignal): void {
  if (proc?.pid === undefined || proc.exitCode !== null) return;
  try {
    process.kill(proc.pid, name);
  } catch {
    // Already gone.
  }
}
