import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, serverProcess } from '../../src/broker/index.ts';

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
  const server = serverProcess({
    name: 'nats-server',
    binary: natsBinary(),
    args: ['-c', conf],
    port,
  });
  await server.start();
  return {
    kind: 'nats',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      await server.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await server.stop(5000);
      await rm(join(dir, 'js'), { recursive: true, force: true });
      await server.start();
    },
  };
}

function natsBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return '/usr/sbin/nats-server';
}
