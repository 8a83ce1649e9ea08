import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { type NatsBroker, startNatsCluster } from '../helpers/nats.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const TOPIC = rulesTopic('filament/v1', 'acme');

// Three nats-server nodes in one cluster, each with its MQTT listener (3.1.1): one fleet whose
// sidecars sit on different nodes.
describe('a three-node nats-server cluster (MQTT 3.1.1)', () => {
  let nodes: NatsBroker[];
  let dir: { path: string; remove(): Promise<void> };
  const sidecars: SidecarProcess[] = [];

  beforeAll(async () => {
    dir = await tempDir('filament-nats-cluster-');
    nodes = await startNatsCluster(3);
  });
  afterAll(async () => {
    await Promise.all(sidecars.map((s) => s.kill('SIGTERM')));
    await Promise.all(nodes.map((n) => n.stop()));
    await dir.remove();
  });

  /** Publishes through `node`, retrying while the cluster is still electing its leaders. */
  async function publish(node: NatsBroker, version: number): Promise<void> {
    await waitFor(
      () =>
        publishOnce({
          url: node.url,
          topic: TOPIC,
          payload: jsonBytes(ruleSet('acme', version)),
          protocolVersion: 4,
          timeoutMs: 2000,
        }).then(
          () => true,
          () => undefined,
        ),
      `a publish through ${node.url}`,
      20_000,
    );
  }

  const applied = (s: SidecarProcess, version: number) =>
    s.waitForLog(
      (l) => l.msg === 'applied rule set' && l.version === version,
      `v${version} applied`,
      20_000,
    );

  test('sidecars on different nodes converge; when a sidecar’s node stops it fails over and loses no version', async () => {
    // Retained before any sidecar starts; also waits out the cluster's leader elections.
    await publish(nodes[0] as NatsBroker, 1);
    // Sidecar i connects to node i first, then the others in order.
    for (let i = 0; i < 3; i++) {
      const urls = [0, 1, 2].map((k) => (nodes[(i + k) % 3] as NatsBroker).url);
      sidecars.push(
        startSidecarProcess(
          sidecarArgs({
            brokers: urls,
            tenant: 'acme',
            replica: `node-${i}`,
            protocol: '3.1.1',
            stateDir: join(dir.path, `s${i}`),
          }),
        ),
      );
    }
    for (const [i, s] of sidecars.entries()) {
      const connected = await s.waitForLog(
        (l) => l.msg === 'connected to broker',
        'its first node',
        20_000,
      );
      expect(connected.url).toBe((nodes[i] as NatsBroker).url);
    }
    await Promise.all(sidecars.map((s) => applied(s, 1)));

    // Node 0 goes away: sidecar 0 moves to node 1 and still gets what is published there.
    await (nodes[0] as NatsBroker).stop();
    const [first] = sidecars as [SidecarProcess];
    await first.waitForLog(
      (l) => l.msg === 'connected to broker' && l.url === (nodes[1] as NatsBroker).url,
      'the failover to node 1',
      20_000,
    );
    await publish(nodes[1] as NatsBroker, 2);
    await Promise.all(sidecars.map((s) => applied(s, 2)));
    for (const s of sidecars) expect(s.logs.some((l) => l.msg === 'rejected rule set')).toBe(false);
  }, 90_000);
});
