/**
 * Hostile local clients for 60 s (not part of `npm test`): `bun test/bench/abuse.bench.ts`
 * (`BENCH_ABUSE_SECONDS` to change the length). Against a real `filament run` process:
 *  - a ValidateStream client that never reads (HTTP/2 receive window 0) and keeps sending batches
 *    of 64, reconnecting whenever its stream is reset;
 *  - a flood of unix-socket connections that send half the HTTP/2 preface and go silent;
 * while a well-behaved client measures sequential Validate latency, a rule version is published
 * every 2 s (applied *and* persisted?), and /metrics and health are polled. Prints RSS growth, the
 * descriptor count against the cap, and Validate p99 under abuse / unloaded (targets: RSS ≤ 32 MB,
 * p99 ≤ 2×).
 */
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor, encodeMessage } from '../../src/api/index.ts';
import { AckWatcher } from '../../src/demo/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';
import { percentile, processRssMb } from './stats.ts';

const SECONDS = Number(process.env.BENCH_ABUSE_SECONDS ?? 60);
/** `both` (default), `stream` (the non-reading client only) or `flood` (the half-open flood only). */
const ABUSE = process.env.BENCH_ABUSE ?? 'both';
const broker = await startMosquitto();
const dir = await tempDir('filament-abuse-bench-');
const socket = join(dir.path, 'api.sock');
const config = join(dir.path, 'filament.toml');
const maxConnections = process.env.BENCH_MAX_CONNECTIONS;
await writeFile(
  config,
  `[log]\nlevel = "debug"\n[api]\nsocket = "${socket}"\n${maxConnections ? `max_connections = ${maxConnections}\n` : ''}[[models]]\nid = "llama"\nversion = "2026-10-01"\n`,
);
const publish = (version: number) =>
  publishOnce({
    url: broker.url,
    topic: rulesTopic('filament/v1', 'acme'),
    payload: jsonBytes(validationRuleSet(version)),
  });
await publish(1);
const acks = await AckWatcher.connect(broker.url, 'filament/v1', 5);
const server = startSidecarProcess(
  sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: join(dir.path, 's') }),
);
await acks.next((a) => a.activeVersion === 1);
const metricsUrl = String(
  (await server.waitForLog((l) => l.msg === 'metrics listening', 'metrics')).url,
);
const rssMb = () => processRssMb(server.pid);
const fds = () => readdirSync(`/proc/${server.pid}/fd`).length;

const sidecar = new (clientConstructor('filament.v1.Sidecar'))(
  `unix:${socket}`,
  grpc.credentials.createInsecure(),
) as unknown as Record<string, (this: unknown, ...args: unknown[]) => unknown>;
const validate = () =>
  new Promise<unknown>((resolve, reject) =>
    sidecar.Validate?.call(
      sidecar,
      { config: VALID_CONFIG_MESSAGE },
      (e: Error | null, v: unknown) => (e ? reject(e) : resolve(v)),
    ),
  );
async function validateFor(ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    await validate();
    times.push((performance.now() - t0) * 1000);
    await Bun.sleep(1);
  }
  return times;
}

await validateFor(3000);
const unloaded = await validateFor(10_000);
const rssBefore = rssMb();
const fdsBefore = fds();

let stopping = false;
let resets = 0;
// The client that never reads, reconnecting after each reset.
const nonReader = (async () => {
  const batch = encodeMessage('filament.v1.ValidateStreamRequest', {
    batch: Array(64).fill({ config: VALID_CONFIG_MESSAGE }),
  });
  const frame = Buffer.alloc(5 + batch.length);
  frame.writeUInt32BE(batch.length, 1);
  frame.set(batch, 5);
  while (!stopping && ABUSE !== 'flood') {
    const session = http2.connect('http://localhost', {
      createConnection: () => connect(socket),
      settings: { initialWindowSize: 0 },
    });
    session.on('error', () => {});
    const stream = session.request({
      ':method': 'POST',
      ':path': '/filament.v1.Sidecar/ValidateStream',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => {});
    const closed = new Promise((resolve) => stream.on('close', resolve));
    let done = false;
    void closed.then(() => {
      done = true;
      resets++;
    });
    while (!done && !stopping) {
      if (!stream.write(frame)) {
        let wake: () => void = () => {};
        await Promise.race([
          new Promise<void>((r) => {
            wake = r;
            stream.once('drain', r);
          }),
          new Promise((r) => setTimeout(r, 200)),
          closed,
        ]);
        stream.off('drain', wake);
      }
    }
    session.destroy();
  }
})();
// The half-open flood: keep 2,000 attempts in flight.
const flood: Socket[] = [];
const flooder = (async () => {
  while (!stopping && ABUSE !== 'stream') {
    for (let i = 0; i < 200; i++) {
      const c = connect(socket);
      c.on('error', () => {});
      c.once('connect', () => c.write('PRI * HTTP/2.0\r\n'));
      flood.push(c);
    }
    while (flood.length > 2000) flood.shift()?.destroy();
    await Bun.sleep(200);
  }
})();

// Meanwhile: rules every 2 s, /metrics and health polled, the well-behaved client measured.
let version = 1;
let persisted = 0;
let metricsFailures = 0;
let maxFds = 0;
let maxRss = 0;
const rssSamples: number[] = [];
const publisher = (async () => {
  while (!stopping) {
    await Bun.sleep(2000);
    version++;
    await publish(version);
    const ack = await acks.next((a) => a.activeVersion === version, 10_000).catch(() => null);
    if (ack?.persisted) persisted++;
  }
})();
const poller = (async () => {
  while (!stopping) {
    maxFds = Math.max(maxFds, fds());
    maxRss = Math.max(maxRss, rssMb());
    rssSamples.push(Math.round(rssMb()));
    const ok = await fetch(metricsUrl, { signal: AbortSignal.timeout(3000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (!ok) metricsFailures++;
    await Bun.sleep(1000);
  }
})();
const loaded = await validateFor(SECONDS * 1000).catch((error) => {
  console.log(String(error), JSON.stringify(server.logs.slice(-8)));
  throw error;
});
stopping = true;
await Promise.all([nonReader, flooder, publisher, poller]);
for (const c of flood) c.destroy();

console.log(
  `filament under hostile local clients (${ABUSE}) — ${new Date().toISOString()}, ${SECONDS} s, Bun ${Bun.version}`,
);
console.log(
  `RSS: ${rssBefore.toFixed(0)} MB before, peak ${maxRss.toFixed(0)} MB (+${(maxRss - rssBefore).toFixed(1)} MB; target ≤ 32 MB)`,
);
console.log(
  `descriptors: ${fdsBefore} before, peak ${maxFds} (cap ${maxConnections ?? 256} per listener)`,
);
console.log(
  `non-reading stream reset ${resets} times; rule versions applied and persisted: ${persisted} of ${version - 1}`,
);
console.log(`/metrics failures: ${metricsFailures}`);
const collections = server.logs
  .filter((l) => l.msg === 'collected garbage after API connection churn')
  .map((l) => Number(l.ms));
console.log(
  `full collections asked for by connection churn: ${collections.length}, longest ${Math.max(0, ...collections)} ms, median ${percentile(collections, 50)} ms`,
);
console.log(`RSS each ≈ second (MB): ${rssSamples.join(' ')}`);
for (const p of [50, 99]) {
  const u = percentile(unloaded, p);
  const l = percentile(loaded, p);
  console.log(
    `Validate p${p}: ${u.toFixed(0)} µs unloaded, ${l.toFixed(0)} µs under abuse; ratio ${(l / u).toFixed(2)}x${p === 99 ? ' (target ≤ 2x)' : ''}`,
  );
}
await server.kill('SIGTERM');
await acks.close();
await broker.stop();
await dir.remove();
