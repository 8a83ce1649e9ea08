import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../src/broker/index.ts';

/** A nats-server with JetStream and its MQTT (3.1.1) listener, on free loopback ports. */
export interface NatsBroker {
  readonly kind: 'nats';
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops it, wipes its JetStream store (so nothing persists), and starts it again on the same ports. */
  restart(): Promise<void>;
}

/** Starts a private single-node nats-server with MQTT enabled. */
export async function startNats(): Promise<NatsBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'filament-nats-'));
  const clientPort = await freePort();
  const port = await freePort();
  const conf = join(dir, 'nats.conf');
  await writeFile(
    conf,
    [
      `server_name: filament_test_${port}`,
      `listen: 127.0.0.1:${clientPort}`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      `mqtt { listen: 127.0.0.1:${port} }`,
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  const launch = async () => {
    const proc = spawn(natsBinary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (c) => {
      stderr += String(c);
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`nats-server exited ${code}: ${stderr}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port, 10_000), exited]);
    child = proc;
  };
  const halt = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };
  await launch();
  return {
    kind: 'nats',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await halt();
      await rm(join(dir, 'js'), { recursive: true, force: true });
      await launch();
    },
  };
}

function natsBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  return '/usr/sbin/nats-server';
}
