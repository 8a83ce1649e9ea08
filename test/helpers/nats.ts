import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freePort, serverProcess } from '../../src/local-broker/index.ts';

/** A nats-server with JetStream and its MQTT (3.1.1) listener, on free loopback ports. */
export interface NatsBroker {
  readonly kind: 'nats';
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Stops it, wipes its JetStream store (so nothing persists), and starts it again on the same ports. */
  restart(): Promise<void>;
  /** Its HTTP monitoring endpoint (`/varz`…), when started with `monitor`. */
  readonly monitorUrl?: string;
  /** SIGHUP: nats-server reads its configuration again (authorization too), keeping clients. */
  reload(): void;
}

/** Options for {@linkcode startNatsCluster}. */
export interface NatsOptions {
  /** `max_payload` (nats-server's default is 1 MB; an 11,500-objective rule set is 2.5 MB). */
  readonly maxPayload?: string;
  /** Serve HTTP monitoring on a free port ({@linkcode NatsBroker.monitorUrl}). */
  readonly monitor?: boolean;
  /**
   * A configuration file to include (absolute path), such as permissions a test rewrites and
   * has reloaded; written into each node's configuration relative to it, as nats-server wants.
   */
  readonly include?: string;
}

/** Starts a private single-node nats-server with MQTT enabled. */
export async function startNats(options: NatsOptions = {}): Promise<NatsBroker> {
  const [node] = await startNodes(1, false, options);
  return node as NatsBroker;
}

/**
 * Starts `size` nats-server nodes clustered with each other (routes between all of them), each
 * with JetStream and its own MQTT listener, as MQTT brokers of one fleet.
 */
export async function startNatsCluster(size = 3, options: NatsOptions = {}): Promise<NatsBroker[]> {
  return startNodes(size, true, options);
}

async function startNodes(
  size: number,
  clustered: boolean,
  options: NatsOptions = {},
): Promise<NatsBroker[]> {
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      mqtt: await freePort(),
      route: await freePort(),
      http: options.monitor ? await freePort() : undefined,
    })),
  );
  const nodes: NatsBroker[] = [];
  const servers: ReturnType<typeof serverProcess>[] = [];
  for (const [i, p] of ports.entries()) {
    const dir = await mkdtemp(join(tmpdir(), 'filament-nats-'));
    const conf = join(dir, 'nats.conf');
    const routes = ports
      .filter((_, j) => j !== i)
      .map((other) => `"nats-route://127.0.0.1:${other.route}"`);
    await writeFile(
      conf,
      [
        `server_name: filament_test_${p.mqtt}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${join(dir, 'js')}" }`,
        ...(options.maxPayload ? [`max_payload: ${options.maxPayload}`] : []),
        ...(p.http ? [`http: 127.0.0.1:${p.http}`] : []),
        // Without stream_replicas the MQTT sessions and retained messages may live on one node
        // only: when it stops, the others time out every CONNECT (seen here).
        `mqtt { listen: 127.0.0.1:${p.mqtt}${clustered ? `, stream_replicas: ${size}` : ''} }`,
        ...(clustered
          ? [
              `cluster { name: filament_test, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }`,
            ]
          : []),
        ...(options.include ? [`include "${relative(dir, options.include)}"`] : []),
      ].join('\n'),
    );
    const server = serverProcess({
      name: 'nats-server',
      binary: natsBinary(),
      args: ['-c', conf],
      port: p.mqtt,
    });
    nodes.push({
      kind: 'nats',
      url: `mqtt://127.0.0.1:${p.mqtt}`,
      port: p.mqtt,
      ...(p.http ? { monitorUrl: `http://127.0.0.1:${p.http}` } : {}),
      async stop() {
        await server.stop(5000);
        await rm(dir, { recursive: true, force: true });
      },
      async restart() {
        await server.stop(5000);
        await rm(join(dir, 'js'), { recursive: true, force: true });
        await server.start();
      },
      reload: () => server.signal('SIGHUP'),
    });
    servers.push(server);
  }
  // Cluster members start together: a JetStream cluster waits for its peers.
  await Promise.all(servers.map((server) => server.start()));
  return nodes;
}

function natsBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return '/usr/sbin/nats-server';
}
