import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { serverProcess } from './server-process.ts';

/** A mosquitto process on loopback that this process started and owns. */
export interface MosquittoBroker {
  readonly kind: 'mosquitto';
  readonly port: number;
  readonly url: string;
  /** Stops the broker (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts it again on the same port (retained messages are kept only with `persistence`). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT, to freeze the broker without closing its sockets. */
  pause(): void;
  resume(): void;
}

/** Options for {@linkcode startMosquitto}. */
export interface MosquittoOptions {
  /** Keep retained messages and sessions across restarts (in a temporary directory). Default false. */
  readonly persistence?: boolean;
  /** Path of the mosquitto binary. Default: `mosquitto` from PATH, else /usr/sbin/mosquitto. */
  readonly binary?: string;
  /** Extra lines for mosquitto.conf. */
  readonly extraConfig?: readonly string[];
}

/** The mosquitto binary if one is installed, else `null`. */
export function findMosquitto(): string | null {
  for (const candidate of ['mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    const probe = spawnSync(candidate, ['-h'], { stdio: 'ignore' });
    if (!probe.error) return candidate;
  }
  return null;
}

/**
 * Starts a private mosquitto on a free loopback port with anonymous access, and waits until it
 * accepts connections. Never touches the machine's own broker or a fixed port.
 * @throws {Error} when mosquitto is not installed or does not come up.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const binary = options.binary ?? findMosquitto();
  if (binary === null) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const dir = await mkdtemp(join(tmpdir(), 'filament-mosquitto-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    const lines = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Running as root, mosquitto would otherwise switch to a user that cannot write `dir`.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      `persistence ${options.persistence ? 'true' : 'false'}`,
      ...(options.persistence ? [`persistence_location ${dir}/`, 'autosave_interval 1'] : []),
      'log_dest none',
      ...(options.extraConfig ?? []),
    ];
    await writeFile(conf, `${lines.join('\n')}\n`);
    try {
      return await launch(binary, conf, port, dir);
    } catch (error) {
      lastError = error;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`mosquitto did not start: ${(lastError as Error)?.message}`);
}

async function launch(
  binary: string,
  conf: string,
  port: number,
  dir: string,
): Promise<MosquittoBroker> {
  const server = serverProcess({
    name: 'mosquitto',
    binary,
    args: ['-c', conf],
    port,
    startTimeoutMs: 5000,
  });
  await server.start();
  let stopped = false;
  return {
    kind: 'mosquitto',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    pause: () => server.signal('SIGSTOP'),
    resume: () => server.signal('SIGCONT'),
  };
}
