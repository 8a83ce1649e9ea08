import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForPort } from '../../src/local-broker/index.ts';

/** A Debian nginx running a test's own configuration, on its own port and files. */
export interface NginxProcess {
  readonly port: number;
  /** nginx's error log so far (why a request failed, when one does). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `nginx` (from Debian's package; build/test-deps.sh installs it) in the foreground with
 * `http` as the body of its http {} block, every file it writes under `dir`, and waits until it
 * listens on `port`.
 */
export async function startNginx(dir: string, port: number, http: string): Promise<NginxProcess> {
  await mkdir(join(dir, 'logs'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    [
      'daemon off;',
      // Workers as this user (root in CI), not www-data: the test's sockets and files are its own.
      ...(process.getuid?.() === 0 ? ['user root root;'] : []),
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'logs', 'error.log')} info;`,
      'events { worker_connections 1024; }',
      'http {',
      `  access_log ${join(dir, 'logs', 'access.log')};`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`,
      ),
      http,
      '}',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => readFile(join(dir, 'logs', 'error.log'), 'utf8').catch(() => '');
  try {
    await waitForPort(port, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`nginx did not start: ${stderr}\n${await errorLog()}`, { cause: error });
  }
  return {
    port,
    errorLog,
    stop: async () => {
      child.kill('SIGQUIT');
      await exited;
    },
  };
}
