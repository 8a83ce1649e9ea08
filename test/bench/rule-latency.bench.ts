/**
 * Rule-stream latency benchmark (not part of `npm test`): run with `npm run bench`.
 *
 * On a private mosquitto, one process publishes the same rule-set bytes to (a) a bare mqtt.js
 * subscriber and (b) a filament sidecar, alternating — full sets of 1 KB and 2.5 MB, then
 * one-objective deltas to the 11,500-objective set — and prints publish→delivered for (a),
 * publish→applied (the moment the rule store holds the new version) and publish→acked (the ACK,
 * sent after the set is durable on disk) for (b), and their ratio. It also times decode + check +
 * compile of a 10,000-objective rule set in-process, cold (fresh caches) and warm.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { pack } from 'msgpackr';
import { buildConfig } from '../../src/config/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import {
  buildRuleDelta,
  DELTA_CONTENT_TYPE,
  RuleApplier,
  type RuleSet,
  RuleStore,
} from '../../src/rules/index.ts';
import { Sidecar } from '../../src/sidecar/index.ts';
import { jsonBytes, largeRuleSet, oneObjectiveChanged, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { ms, percentile } from './stats.ts';

const PREFIX = 'filament/v1';
const TENANT = 'bench';

interface Case {
  readonly name: string;
  readonly iterations: number;
  readonly make: (version: number) => RuleSet;
  readonly encode: (set: RuleSet) => Uint8Array;
  readonly contentType: string;
}

const SMALL: Case = {
  name: '1 KB JSON',
  iterations: 500,
  make: (v) => ruleSet(TENANT, v, { description: 'x'.repeat(440) }),
  encode: jsonBytes,
  contentType: 'application/json',
};
const LARGE_JSON: Case = {
  name: '2 MB JSON',
  iterations: 40,
  make: (v) => largeRuleSet(TENANT, v, 11_500),
  encode: jsonBytes,
  contentType: 'application/json',
};
const LARGE_MSGPACK: Case = {
  ...LARGE_JSON,
  name: '1.6 MB msgpack (same set)',
  encode: (s) => pack(s),
  contentType: 'application/msgpack',
};

/** One-objective deltas timed after the full-set cases. */
const DELTAS = 205;

function connect(url: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

function publish(
  client: MqttClient,
  topic: string,
  payload: Uint8Array,
  contentType: string,
): void {
  client.publish(topic, Buffer.from(payload), {
    qos: 1,
    retain: true,
    properties: { contentType },
  });
}

async function main(): Promise<void> {
  const broker = await startMosquitto({ extraConfig: ['set_tcp_nodelay true'] });
  const state = await tempDir('filament-bench-');
  const publisher = await connect(broker.url);
  const raw = await connect(broker.url);
  const ackClient = await connect(broker.url);
  const config = buildConfig({
    identity: { replica: 'bench-host', cluster: 'gpu-east' },
    broker: { urls: [broker.url] },
    rules: { tenants: [TENANT], max_message_bytes: 16 * 1024 * 1024 },
    state: { dir: state.path },
    log: { level: 'error' },
  });
  const sidecar = new Sidecar(config);
  await sidecar.start();

  const waiters = new Map<string, (t: number) => void>();
  const expect = (key: string) => new Promise<number>((resolve) => waiters.set(key, resolve));
  const fire = (key: string) => {
    const t = performance.now();
    waiters.get(key)?.(t);
    waiters.delete(key);
  };
  raw.on('message', (_topic, payload) => fire(`raw:${payload.byteLength}`));
  await new Promise<void>((r) => raw.subscribe(`${PREFIX}/raw/${TENANT}`, { qos: 1 }, () => r()));
  sidecar.store.onChange((rules) => fire(`applied:${rules.active.version}`));
  ackClient.on('message', (_topic, payload) => {
    const ack = JSON.parse(payload.toString()) as { receivedVersion: number; status: string };
    if (ack.status === 'applied') fire(`acked:${ack.receivedVersion}`);
  });
  await new Promise<void>((r) =>
    ackClient.subscribe(`${PREFIX}/acks/${TENANT}/#`, { qos: 1 }, () => r()),
  );
  while (sidecar.snapshot().broker.state !== 'connected') await Bun.sleep(10);
  await Bun.sleep(200);

  const rows: string[][] = [];
  /**
   * Times each message twice, alternating: publish → delivered on the bare subscriber, then
   * publish → applied and → acked on the sidecar; after `warmUp` messages, adds p50 and p99 rows.
   */
  const timeMessages = async (
    name: string,
    messages: readonly { version: number; bytes: Uint8Array }[],
    contentType: string,
    warmUp: number,
  ) => {
    const rawTimes: number[] = [];
    const appliedTimes: number[] = [];
    const ackedTimes: number[] = [];
    for (const [i, { version: v, bytes }] of messages.entries()) {
      let t0 = performance.now();
      const delivered = expect(`raw:${bytes.byteLength}`);
      publish(publisher, `${PREFIX}/raw/${TENANT}`, bytes, contentType);
      const tRaw = (await delivered) - t0;

      const applied = expect(`applied:${v}`);
      const acked = expect(`acked:${v}`);
      t0 = performance.now();
      publish(publisher, `${PREFIX}/rules/${TENANT}`, bytes, contentType);
      const tApplied = (await applied) - t0;
      const tAcked = (await acked) - t0;
      if (i < warmUp) continue;
      rawTimes.push(tRaw);
      appliedTimes.push(tApplied);
      ackedTimes.push(tAcked);
    }
    for (const p of [50, 99]) {
      const base = percentile(rawTimes, p);
      const applied = percentile(appliedTimes, p);
      rows.push([
        name,
        `p${p}`,
        ms(base),
        ms(applied),
        `${(applied / base).toFixed(2)}x`,
        ms(percentile(ackedTimes, p)),
      ]);
    }
  };

  let version = 0;
  for (const c of [SMALL, LARGE_JSON, LARGE_MSGPACK]) {
    // Bytes are built before timing so serialisation is not measured.
    const messages = Array.from({ length: c.iterations + 3 }, () => {
      version++;
      return { version, bytes: c.encode(c.make(version)) };
    });
    const size = messages[0]?.bytes.byteLength ?? 0;
    // Warm-up: JIT, first Ajv compilation of the schemas.
    await timeMessages(`${c.name} (${(size / 1024).toFixed(1)} KiB)`, messages, c.contentType, 3);
  }

  // A one-objective change to the 11,500-objective tenant, as a delta on top of what is applied.
  {
    let prev = largeRuleSet(TENANT, ++version, 11_500);
    const applied = expect(`applied:${version}`);
    publish(publisher, `${PREFIX}/rules/${TENANT}`, jsonBytes(prev), 'application/json');
    await applied;
    const deltas: { version: number; bytes: Uint8Array }[] = [];
    for (let i = 0; i < DELTAS; i++) {
      const next = oneObjectiveChanged(prev, ++version);
      deltas.push({ version, bytes: jsonBytes(buildRuleDelta(prev, next)) });
      prev = next;
    }
    const size = deltas[0]?.bytes.byteLength ?? 0;
    await timeMessages(`delta: 1 of 11,500 objectives (${size} B)`, deltas, DELTA_CONTENT_TYPE, 5);
  }

  console.log(
    `\nfilament rule-stream latency — ${new Date().toISOString()}, Bun ${Bun.version}, mosquitto on loopback`,
  );
  console.log(
    'publish→delivered is a bare mqtt.js subscriber; publish→applied is the rule store holding the new',
  );
  console.log(
    'version; publish→acked is the ACK arriving back (sent after the set is durable on disk).\n',
  );
  const header = ['rule set', 'pct', 'raw delivery', 'applied', 'applied/raw', 'acked (durable)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));

  await sidecar.stop();
  for (const client of [publisher, raw, ackClient]) client.end(true);
  await broker.stop();
  await state.remove();

  compileBenchmark();
}

/** decode + check + compile of a 10,000-objective set, cold (fresh applier) and warm (new version, cached validators). */
function compileBenchmark(): void {
  const limits = { maxBytes: 64 * 1024 * 1024, maxDepth: 32 };
  const sets = Array.from({ length: 12 }, (_, i) => jsonBytes(largeRuleSet(TENANT, i + 1, 10_000)));
  const cold: number[] = [];
  for (let i = 0; i < 10; i++) {
    const applier = new RuleApplier(new RuleStore(2), { limits, now: Date.now });
    const t0 = performance.now();
    const outcome = applier.apply({ tenant: TENANT, bytes: sets[0] as Uint8Array });
    cold.push(performance.now() - t0);
    if (outcome.status !== 'applied')
      throw new Error(`benchmark set refused: ${JSON.stringify(outcome)}`);
  }
  const applier = new RuleApplier(new RuleStore(2), { limits, now: Date.now });
  const warm: number[] = [];
  for (let i = 0; i < sets.length; i++) {
    const t0 = performance.now();
    applier.apply({ tenant: TENANT, bytes: sets[i] as Uint8Array });
    if (i >= 2) warm.push(performance.now() - t0);
  }
  const bytes = (sets[0] as Uint8Array).byteLength;
  console.log(
    `\ndecode + check + compile, 10,000 objectives (${(bytes / 1024 / 1024).toFixed(2)} MiB JSON), target ≤ 100 ms:`,
  );
  console.log(
    `  cold (fresh Ajv caches): p50 ${ms(percentile(cold, 50))}, max ${ms(Math.max(...cold))}`,
  );
  console.log(
    `  warm (next version):     p50 ${ms(percentile(warm, 50))}, max ${ms(Math.max(...warm))}`,
  );
}

await main();
