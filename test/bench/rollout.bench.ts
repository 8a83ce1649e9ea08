/**
 * Fleet rollout benchmark (not part of `npm test`): `npm run bench:rollout [-- options]`.
 *
 * 1,000 hosts — the real follow code, spread over worker processes (`rollout/rollout-worker.ts`)
 * — follow one 11,500-objective tenant (≈ 2.5 MB) on one private mosquitto, then on a private
 * three-node nats-server cluster (MQTT 3.1.1, hosts spread over the nodes). A one-objective change
 * is rolled out three ways, each measured from the publish on the host's clock:
 *   1. as a full set (what every change cost before deltas) — the tenant's first version, as
 *      1,000 copies of a second one would not fit in this machine's memory;
 *   2. as a delta, three times (the complete set retained on `…/full` first, where nobody is
 *      subscribed);
 *   3. as a delta while every tenth host is one version behind (it lost the previous change):
 *      those take the full set from `…/full`, the rest apply the delta.
 * Before each delta, the baseline in the same run: bytes of the delta's size published on
 * `{prefix}/raw/{tenant}`, which every host's connection also follows (same client, same PUBACK
 * after the handler, no apply) — publish → delivered on all hosts, and the delta's ratio to it.
 * Printed per rollout: publish → applied on all hosts (p50 / p99 / max), bytes the broker sent
 * (mosquitto: `$SYS/broker/bytes/sent`; nats: `/connz` `out_bytes` of the MQTT connections),
 * and CPU per host (the workers' CPU over the rollout ÷ hosts).
 *
 *   --hosts 1000  --workers 4  --objectives 11500  --brokers mosquitto,nats  [--purge-delay=ms]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { rulesFullTopic, rulesTopic } from '../../src/mqtt/index.ts';
import { buildRuleDelta, DELTA_CONTENT_TYPE } from '../../src/rules/index.ts';
import { type NatsBroker, startNatsCluster } from '../helpers/nats.ts';
import { jsonBytes, largeRuleSet, oneObjectiveChanged } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { ms, percentile, processCpuMs } from './stats.ts';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '4' },
    objectives: { type: 'string', default: '11500' },
    brokers: { type: 'string', default: 'mosquitto,nats' },
    'purge-delay': { type: 'string' },
  },
});
const HOSTS = Number(values.hosts);
const WORKERS = Number(values.workers);
const OBJECTIVES = Number(values.objectives);
/**
 * The workers' allocator purge delay (`MIMALLOC_PURGE_DELAY`, ms; -1 never): each worker holds
 * hundreds of hosts' heaps, and by default mimalloc hands freed pages back to the kernel 100 ms
 * after a collection frees them — 15,000 madvise calls and as many page faults per 400 deltas in
 * a 20-host worker, half its CPU. A real host holds one heap; `-1` shows the hosts' own cost.
 */
const PURGE_DELAY = values['purge-delay'];
const PREFIX = 'filament/v1';
const TENANT = 'big';
const now = () => performance.timeOrigin + performance.now();

/** A broker under test: where hosts connect, and how many bytes it has sent so far. */
interface Target {
  readonly name: string;
  readonly urls: readonly string[];
  readonly protocol: 4 | 5;
  readonly pids: () => number[];
  bytesSent(): Promise<number>;
  stop(): Promise<void>;
}

async function mosquittoTarget(): Promise<Target> {
  const broker: MosquittoBroker = await startMosquitto({
    extraConfig: ['set_tcp_nodelay true', 'max_queued_messages 10000', 'sys_interval 1'],
  });
  const sys = await connect(broker.url, 5);
  let latest = { value: 0, at: 0 };
  sys.on('message', (_t, payload) => {
    latest = { value: Number(payload.toString()), at: Date.now() };
  });
  await sys.subscribeAsync('$SYS/broker/bytes/sent');
  return {
    name: 'mosquitto',
    urls: [broker.url],
    protocol: 5,
    pids: () => [],
    async bytesSent() {
      // $SYS is published once a second: wait for a value newer than this call.
      const asked = Date.now();
      while (latest.at <= asked + 50) {
        if (Date.now() - asked > 30_000)
          throw new Error('mosquitto: no $SYS/broker/bytes/sent for 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      return latest.value;
    },
    async stop() {
      await sys.endAsync(true);
      await broker.stop();
    },
  };
}

async function natsTarget(): Promise<Target> {
  const nodes: NatsBroker[] = await startNatsCluster(3, { maxPayload: '8MB', monitor: true });
  return {
    name: 'nats (3 nodes)',
    urls: nodes.map((n) => n.url),
    protocol: 4,
    pids: () => [],
    async bytesSent() {
      // What the nodes sent their MQTT clients, as /connz counts it per connection (/varz's
      // out_bytes leaves MQTT out; routes between the nodes are not counted).
      let total = 0;
      for (const node of nodes) {
        const connz = (await (await fetch(`${node.monitorUrl}/connz?limit=100000`)).json()) as {
          connections?: { type?: string; out_bytes: number }[];
        };
        for (const c of connz.connections ?? []) if (c.type === 'mqtt') total += c.out_bytes;
      }
      return total;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

/**
 * An mqtt.js client, retried for up to a minute (a new nats cluster elects its leaders first).
 * Without keepalive pings: while a broker pushes 2.5 GB to 1,000 hosts it can answer a ping too
 * late, and a control connection of the benchmark dropped then left a run waiting for ever. If
 * it drops all the same, it connects again (and subscribes again).
 */
async function connect(url: string, protocolVersion: 4 | 5): Promise<MqttClient> {
  const end = Date.now() + 60_000;
  for (;;) {
    const client = mqtt.connect(url, {
      protocolVersion,
      clean: true,
      keepalive: 0,
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    const connected = await new Promise<boolean>((resolve) => {
      client.once('connect', () => resolve(true));
      client.once('error', () => resolve(false));
      client.once('close', () => resolve(false));
    });
    if (connected) {
      client.options.reconnectPeriod = 1000;
      return client;
    }
    client.end(true);
    if (Date.now() > end) throw new Error(`cannot connect to ${url}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A worker process and a way to ask it things. */
interface Worker {
  readonly pid: number;
  ask(command: object): Promise<Record<string, unknown>>;
  ready: Promise<void>;
  /** Asks it to disconnect its hosts and exit; resolves when it has. */
  stop(): Promise<void>;
}

function startWorker(target: Target, first: number, count: number, state: string): Worker {
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dir, 'rollout', 'rollout-worker.ts'),
      `--brokers=${target.urls.join(',')}`,
      `--first=${first}`,
      `--count=${count}`,
      `--state=${state}`,
      `--protocol=${target.protocol}`,
      `--tenant=${TENANT}`,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        ...(PURGE_DELAY !== undefined ? { MIMALLOC_PURGE_DELAY: PURGE_DELAY } : {}),
      },
    },
  );
  const waiting: Array<(event: Record<string, unknown>) => void> = [];
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    readyResolve = resolve;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as Record<string, unknown>;
    if (event.event === 'ready') readyResolve();
    else waiting.shift()?.(event);
  });
  return {
    pid: child.pid as number,
    ready,
    ask(command) {
      child.stdin.write(`${JSON.stringify(command)}\n`);
      return new Promise((resolve) => waiting.push(resolve));
    },
    stop() {
      if (child.exitCode !== null) return Promise.resolve();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.write('{"cmd":"stop"}\n');
      return exited;
    },
  };
}

interface Row {
  broker: string;
  rollout: string;
  payload: number;
  applied: number[];
  bytes: number;
  cpuPerHostMs: number;
  fetchedFull: number;
  /** The raw delivery measured just before this rollout, in the same run. */
  baseline?: Row;
}

async function runOn(target: Target): Promise<Row[]> {
  const dir = await tempDir('filament-rollout-');
  const publisher = await connect(target.urls[0] as string, target.protocol);
  const publish = async (topic: string, payload: Uint8Array, contentType: string) => {
    await publisher.publishAsync(topic, Buffer.from(payload), {
      qos: 1,
      retain: true,
      ...(target.protocol === 5 ? { properties: { contentType } } : {}),
    });
  };
  const rulesAt = rulesTopic(PREFIX, TENANT);
  const fullAt = rulesFullTopic(PREFIX, TENANT);
  const per = Math.ceil(HOSTS / WORKERS);
  const workers = Array.from({ length: WORKERS }, (_, w) =>
    startWorker(target, w * per, Math.min(per, HOSTS - w * per), dir.path),
  );
  const rows: Row[] = [];
  try {
    const t = now();
    await Promise.all(workers.map((w) => w.ready));
    console.error(
      `${target.name}: ${HOSTS} hosts connected in ${((now() - t) / 1000).toFixed(1)} s`,
    );
    const cpu = () => workers.reduce((sum, w) => sum + processCpuMs(w.pid), 0);
    const collect = async (version: number, who = 'all') => {
      const reports = await Promise.all(workers.map((w) => w.ask({ cmd: 'report', version, who })));
      if (reports.some((r) => !r.complete))
        throw new Error(`${target.name}: not every host applied version ${version}`);
      return {
        applied: reports.flatMap((r) => r.applied as number[]),
        fetchedFull: reports.reduce((n, r) => n + (r.fetchedFull as number), 0),
      };
    };
    /**
     * One measured rollout: `send` publishes and returns when it did (ms, this clock), `gather`
     * waits for every host and returns when each got it; the row is kept and printed at once.
     */
    const measure = async (
      name: string,
      payload: number,
      send: () => Promise<number>,
      gather: () => Promise<{ at: number[]; fetchedFull: number }>,
      baseline?: Row,
    ): Promise<Row> => {
      const bytes0 = await target.bytesSent();
      const cpu0 = cpu();
      const t0 = await send();
      const { at, fetchedFull } = await gather();
      const cpuMs = cpu() - cpu0;
      await new Promise((r) => setTimeout(r, 1500)); // ACKs and saves settle, $SYS ticks
      const row: Row = {
        broker: target.name,
        rollout: name,
        payload,
        applied: at.map((t) => t - t0),
        bytes: (await target.bytesSent()) - bytes0,
        cpuPerHostMs: cpuMs / HOSTS,
        fetchedFull,
        ...(baseline !== undefined ? { baseline } : {}),
      };
      rows.push(row);
      console.error(`${target.name}: ${JSON.stringify(summary(row))}`);
      return row;
    };

    /** Publishes what `send` does, and measures until every host has `version`. */
    const rollout = async (
      name: string,
      version: number,
      payload: number,
      baseline: Row | undefined,
      send: () => Promise<number>,
    ) => {
      await measure(
        name,
        payload,
        send,
        async () => {
          const { applied, fetchedFull } = await collect(version);
          return { at: applied, fetchedFull };
        },
        baseline,
      );
      // After a full set each host hashes it for the next delta, ≈ 80 ms of CPU in small turns:
      // nothing on one host, 80 s here for 1,000. Let it finish, and its garbage be collected,
      // before the next rollout.
      for (let round = 0; round < (name === 'full set' ? 6 : 1); round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, 15_000));
        const gc = await Promise.all(workers.map((w) => w.ask({ cmd: 'gc' })));
        const rss = gc.reduce((n, r) => n + (r.rssMb as number), 0);
        console.error(`${target.name}: workers hold ${(rss / 1000).toFixed(1)} GB`);
      }
    };

    /**
     * The baseline: bytes of a delta's size on `{prefix}/raw/{tenant}`, which every host's
     * connection also follows — the same client and PUBACK path, without the apply.
     */
    let seq = 0;
    const rawDelivery = (size: number): Promise<Row> => {
      const n = ++seq;
      const body = JSON.stringify({ seq: n, pad: '' });
      const payload = new TextEncoder().encode(
        JSON.stringify({ seq: n, pad: 'x'.repeat(Math.max(0, size - body.length)) }),
      );
      return measure(
        'raw delivery (baseline)',
        payload.byteLength,
        async () => {
          const t0 = now();
          await publish(`${PREFIX}/raw/${TENANT}`, payload, 'application/json');
          return t0;
        },
        async () => {
          const reports = await Promise.all(
            workers.map((w) => w.ask({ cmd: 'delivered', seq: n })),
          );
          if (reports.some((r) => !r.complete))
            throw new Error(`${target.name}: not every host got raw message ${n}`);
          return { at: reports.flatMap((r) => r.at as number[]), fetchedFull: 0 };
        },
      );
    };

    // 1. A full set to every host. It is the first version here — the parse, checks and compile
    //    are those of any full set — because 1,000 hosts on one machine hold 1,000 copies of
    //    it (≈ 13 GB): a second full set on top would not fit in this machine's 24 GB.
    let set = largeRuleSet(TENANT, 1, OBJECTIVES);
    const full1 = jsonBytes(set);
    await rollout('full set', 1, full1.byteLength, undefined, async () => {
      await publish(fullAt, full1, 'application/json');
      const t0 = now();
      await publish(rulesAt, full1, 'application/json');
      return t0;
    });

    // 2. The next one as a delta.
    const deltaTo = async (v: number) => {
      const next = oneObjectiveChanged(set, v);
      const delta = jsonBytes(buildRuleDelta(set, next));
      const full = jsonBytes(next);
      set = next;
      return { delta, full };
    };
    for (const v of [2, 3, 4]) {
      const d = await deltaTo(v);
      const baseline = await rawDelivery(d.delta.byteLength);
      await rollout('delta', v, d.delta.byteLength, baseline, async () => {
        await publish(fullAt, d.full, 'application/json');
        const t0 = now();
        await publish(rulesAt, d.delta, DELTA_CONTENT_TYPE);
        return t0;
      });
    }

    // 3. Every tenth host loses version 5; version 6 then finds them one behind.
    await Promise.all(workers.map((w) => w.ask({ cmd: 'drop-next' })));
    const d5 = await deltaTo(5);
    await publish(fullAt, d5.full, 'application/json');
    await publish(rulesAt, d5.delta, DELTA_CONTENT_TYPE);
    await Promise.all(workers.map((w) => w.ask({ cmd: 'report', version: 5, who: 'steady' })));
    await new Promise((r) => setTimeout(r, 1000));
    const d6 = await deltaTo(6);
    const baseline6 = await rawDelivery(d6.delta.byteLength);
    await rollout('delta, 10 % one behind', 6, d6.delta.byteLength, baseline6, async () => {
      await publish(fullAt, d6.full, 'application/json');
      const t0 = now();
      await publish(rulesAt, d6.delta, DELTA_CONTENT_TYPE);
      return t0;
    });
    return rows;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await publisher.endAsync(true);
    await dir.remove();
  }
}

/** A row's figures, also printed as each rollout ends (a long run's partial results survive). */
function summary(r: Row) {
  return {
    rollout: r.rollout,
    bytes: r.payload,
    p50: percentile(r.applied, 50),
    p99: percentile(r.applied, 99),
    max: Math.max(...r.applied),
    brokerBytesOut: r.bytes,
    cpuPerHostMs: r.cpuPerHostMs,
    fetchedFull: r.fetchedFull,
    ...(r.baseline !== undefined ? { p99OverRaw: ratio(r.applied, r.baseline.applied, 99) } : {}),
  };
}

const all: Row[] = [];
for (const name of (values.brokers as string).split(',')) {
  const target = name === 'nats' ? await natsTarget() : await mosquittoTarget();
  try {
    all.push(...(await runOn(target)));
  } finally {
    await target.stop();
  }
}

console.log(
  `\nfleet rollout — ${new Date().toISOString()}, Bun ${Bun.version}, ${HOSTS} hosts in ${WORKERS} processes on this machine, ${OBJECTIVES} objectives${PURGE_DELAY === undefined ? '' : `, MIMALLOC_PURGE_DELAY=${PURGE_DELAY}`}\n`,
);
const header = [
  'broker',
  'rollout',
  'message',
  'all applied p50',
  'p99',
  'max',
  'broker bytes out',
  'CPU per host',
  'took full set',
  'p50 / p99 ÷ raw',
];
const lines = all.map((r) => {
  const fullRow = all.find((x) => x.broker === r.broker && x.rollout === 'full set');
  const share = fullRow ? ` (${((100 * r.bytes) / fullRow.bytes).toFixed(2)} %)` : '';
  return [
    r.broker,
    r.rollout,
    `${r.payload} B`,
    ms(percentile(r.applied, 50)),
    ms(percentile(r.applied, 99)),
    ms(Math.max(...r.applied)),
    `${(r.bytes / 1e6).toFixed(2)} MB${r.rollout === 'full set' ? '' : share}`,
    `${r.cpuPerHostMs.toFixed(2)} ms`,
    String(r.fetchedFull),
    r.baseline === undefined
      ? ''
      : `${ratio(r.applied, r.baseline.applied, 50)} / ${ratio(r.applied, r.baseline.applied, 99)}`,
  ];
});
/** The `p` percentile of `xs` over that of `base`, as `N.NN×`. */
function ratio(xs: number[], base: number[], p: number): string {
  return `${(percentile(xs, p) / percentile(base, p)).toFixed(2)}×`;
}
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
const show = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
console.log(show(header));
for (const l of lines) console.log(show(l));
process.exit(0);
