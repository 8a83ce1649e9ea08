/**
 * One process of the fleet rollout benchmark (`test/bench/rollout.bench.ts`, not run alone):
 * `--count` hosts, each the real follow code — its own MqttConnection (own client id, persistent
 * session), RuleApplier, RuleStore, StateStore (own directory: what it applies is fsynced) and
 * RuleFollower. Every tenth host is "lagging": told `drop-next`, it loses the next rule message
 * (as a host restarting or cut off would), so it is one version behind for the next change.
 *
 * Commands arrive on stdin, one JSON object per line; answers go to stdout, one per line:
 *   {"cmd":"drop-next"}               → {"event":"ok"}
 *   {"cmd":"report","version":v,"who":"all"|"steady"}
 *     (once every such host has applied and ACKed v)
 *                                     → {"event":"report","applied":[epoch ms…],"fetchedFull":n}
 *   {"cmd":"delivered","seq":n}       (once every host got raw message n, see below)
 *                                     → {"event":"delivered","at":[epoch ms…]}
 *   {"cmd":"gc"}                      → {"event":"gc","rssMb":n} after a full collection
 *   {"cmd":"stop"}                    → exits
 * and {"event":"ready"} once every host is connected and subscribed.
 *
 * Each host's connection also follows `{prefix}/raw/{tenant}`, where the benchmark publishes
 * bytes of a delta's size carrying `{"seq":n}`: their arrival (the same client, the same PUBACK
 * after the handler, no apply) is the baseline the rollouts are compared with.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { StateStore } from '../../../src/last-known-good/index.ts';
import {
  type MessageBus,
  type MessageHandler,
  MqttConnection,
  rulesTopic,
} from '../../../src/mqtt/index.ts';
import { RuleFollower } from '../../../src/rule-stream/index.ts';
import { RuleApplier, RuleStore } from '../../../src/rules/index.ts';

const { values } = parseArgs({
  options: {
    brokers: { type: 'string' },
    first: { type: 'string' },
    count: { type: 'string' },
    state: { type: 'string' },
    protocol: { type: 'string' },
    prefix: { type: 'string' },
    tenant: { type: 'string' },
  },
});
const brokers = (values.brokers ?? '').split(',');
const first = Number(values.first);
const count = Number(values.count);
const prefix = values.prefix ?? 'filament/v1';
const tenant = values.tenant ?? 'big';
const protocolVersion = values.protocol === '4' ? 4 : 5;
const now = () => performance.timeOrigin + performance.now();

interface Host {
  readonly connection: MqttConnection;
  readonly lagging: boolean;
  readonly applied: Map<number, number>;
  readonly fetchedFull: Set<number>;
  /** Versions it has ACKed (after they were persisted, or failed to be). */
  readonly acked: Set<number>;
  /** Raw message sequence number → when it arrived. */
  readonly delivered: Map<number, number>;
  dropNext: boolean;
}

/** The connection, except that a lagging host loses the next rule message when told to. */
function lossy(host: () => Host, connection: MqttConnection): MessageBus {
  const rules = rulesTopic(prefix, tenant);
  return {
    subscribe(topic: string, handler: MessageHandler) {
      connection.subscribe(topic, (message) => {
        const h = host();
        if (topic === rules && h.dropNext) {
          h.dropNext = false;
          return Promise.resolve();
        }
        return handler(message);
      });
    },
    unsubscribe: (topic) => connection.unsubscribe(topic),
    publishRetained: (topic, payload, options) =>
      connection.publishRetained(topic, payload, options),
    status: () => connection.status(),
    onStatus: (listener) => connection.onStatus(listener),
  };
}

const hosts: Host[] = [];
for (let i = first; i < first + count; i++) {
  const connection = new MqttConnection({
    urls: [brokers[i % brokers.length] as string],
    clientId: `rollout-${i}`,
    protocolVersion,
    keepaliveSeconds: 120,
    maximumPacketSize: 16 << 20,
  });
  const host: Host = {
    connection,
    lagging: i % 10 === 9,
    applied: new Map(),
    fetchedFull: new Set(),
    acked: new Set(),
    delivered: new Map(),
    dropNext: false,
  };
  connection.subscribe(`${prefix}/raw/${tenant}`, async (message) => {
    const { seq } = JSON.parse(new TextDecoder().decode(message.payload)) as { seq: number };
    host.delivered.set(seq, now());
  });
  // One version kept: 1,000 copies of an 11,500-objective set are ≈ 10 GB already.
  const store = new RuleStore(1);
  const state = new StateStore(join(values.state as string, `h${i}`));
  await state.open();
  const follower = new RuleFollower({
    bus: lossy(() => host, connection),
    applier: new RuleApplier(store, {
      limits: { maxBytes: 16 << 20, maxDepth: 32 },
      now: Date.now,
    }),
    store,
    state,
    topicPrefix: prefix,
    replica: `h${i}`,
    cluster: 'fleet',
    tenants: [tenant],
  });
  store.onChange((rules) => {
    const v = rules.active.version;
    if (!host.applied.has(v)) host.applied.set(v, now());
  });
  follower.onAck((ack) => {
    if (ack.activeVersion === null) return;
    host.acked.add(ack.activeVersion);
    if (ack.fetchedFull) host.fetchedFull.add(ack.activeVersion);
  });
  connection.start();
  follower.start();
  hosts.push(host);
}

const say = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);
const until = async (done: () => boolean, timeoutMs: number) => {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
};
await until(() => hosts.every((h) => h.connection.status().state === 'connected'), 300_000);
await new Promise((resolve) => setTimeout(resolve, 500));
say({ event: 'ready' });

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as {
    cmd: string;
    version?: number;
    who?: string;
    seq?: number;
  };
  if (command.cmd === 'drop-next') {
    for (const h of hosts) if (h.lagging) h.dropNext = true;
    say({ event: 'ok' });
  } else if (command.cmd === 'report') {
    const v = command.version as number;
    const counted = hosts.filter((h) => command.who !== 'steady' || !h.lagging);
    const all = await until(
      () => counted.every((h) => h.applied.has(v) && h.acked.has(v)),
      300_000,
    );
    say({
      event: 'report',
      complete: all,
      applied: counted.map((h) => h.applied.get(v) ?? null),
      fetchedFull: counted.filter((h) => h.fetchedFull.has(v)).length,
    });
  } else if (command.cmd === 'delivered') {
    const seq = command.seq as number;
    const all = await until(() => hosts.every((h) => h.delivered.has(seq)), 300_000);
    say({
      event: 'delivered',
      complete: all,
      at: hosts.map((h) => h.delivered.get(seq) ?? null),
    });
  } else if (command.cmd === 'gc') {
    // Between rollouts: 250 hosts' garbage from a 2.5 MB full set is gigabytes, and this
    // machine holds 1,000 hosts; collected here, not during the next rollout.
    Bun.gc(true);
    say({ event: 'gc', rssMb: Math.round(process.memoryUsage().rss / 1e6) });
  } else if (command.cmd === 'stop') {
    await Promise.all(hosts.map((h) => h.connection.stop()));
    process.exit(0);
  }
}
