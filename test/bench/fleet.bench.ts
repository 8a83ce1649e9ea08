/**
 * Fleet-scale benchmark (not part of `npm test`): `bun test/bench/fleet.bench.ts [N …]`
 * (default N = 100 and 1000; `FLEET_SIZES=10,100` works too).
 *
 * N lightweight sidecars in this one process, each the real rule-follow code — its own
 * MqttConnection (own client id, persistent session), RuleApplier, RuleStore, StateStore (own
 * directory: every applied set is fsynced) and RuleFollower — against one private mosquitto.
 * One rule set (≈ 2.6 KB) is published; printed: publish → applied and publish → acked (durable)
 * over the N instances, p50 / p99 / max, and how they grow with N (target: p99 ≤ 1 s at N = 1000).
 */
import { join } from 'node:path';
import { StateStore } from '../../src/last-known-good/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { MqttConnection, publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { RuleFollower } from '../../src/rule-stream/index.ts';
import { RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';
import { ms, percentile } from './stats.ts';

const PREFIX = 'filament/v1';
const sizes = (
  process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : (process.env.FLEET_SIZES ?? '100,1000').split(',')
).map(Number);

interface Instance {
  readonly connection: MqttConnection;
  applied: number | null;
  acked: number | null;
}

async function run(n: number): Promise<{ applied: number[]; acked: number[] }> {
  const broker = await startMosquitto({
    extraConfig: ['set_tcp_nodelay true', 'max_queued_messages 10000'],
  });
  const dir = await tempDir('filament-fleet-');
  const instances: Instance[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const store = new RuleStore(2);
      const state = new StateStore(join(dir.path, `r${i}`));
      await state.open();
      const connection = new MqttConnection({
        urls: [broker.url],
        clientId: `fleet-${i}`,
        keepaliveSeconds: 60,
      });
      const follower = new RuleFollower({
        bus: connection,
        applier: new RuleApplier(store, {
          limits: { maxBytes: 8 << 20, maxDepth: 32 },
          now: Date.now,
        }),
        store,
        state,
        topicPrefix: PREFIX,
        replica: `r${i}`,
        cluster: 'fleet',
        tenants: ['acme'],
      });
      const instance: Instance = { connection, applied: null, acked: null };
      store.onChange(() => {
        instance.applied ??= performance.now();
      });
      follower.onAck((ack) => {
        if (ack.status === 'applied') instance.acked ??= performance.now();
      });
      await follower.restore();
      connection.start();
      follower.start();
      instances.push(instance);
    }
    const connected = () => instances.every((x) => x.connection.status().state === 'connected');
    await waitFor(() => (connected() ? true : undefined), `${n} connections`, 120_000);
    // Subscriptions are sent right after CONNACK; give the broker a moment to register them all.
    await new Promise((resolve) => setTimeout(resolve, 500 + n));
    const t0 = performance.now();
    await publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, 'acme'),
      payload: jsonBytes(ruleSet('acme', 1)),
    });
    await waitFor(
      () => (instances.every((x) => x.acked !== null) ? true : undefined),
      'every instance to ack',
      120_000,
    );
    return {
      applied: instances.map((x) => (x.applied as number) - t0),
      acked: instances.map((x) => (x.acked as number) - t0),
    };
  } finally {
    await Promise.all(instances.map((x) => x.connection.stop()));
    await broker.stop();
    await dir.remove();
  }
}

console.log(
  `fleet scale — ${new Date().toISOString()}, Bun ${Bun.version}, one process, one mosquitto`,
);
for (const n of sizes) {
  const { applied, acked } = await run(n);
  const line = (v: number[]) =>
    `p50 ${ms(percentile(v, 50))}, p99 ${ms(percentile(v, 99))}, max ${ms(Math.max(...v))}`;
  console.log(`N = ${n}: publish → applied ${line(applied)}; → acked (fsynced) ${line(acked)}`);
}
