/**
 * Local API benchmark (not part of `npm test`): `bun test/bench/api.bench.ts`.
 * A real `filament run` process serves its unix socket; this process is the client. Prints
 * unary Validate p50/p99 next to a bare health Check on the same server (sequential and with
 * 64 calls in flight), and ValidateStream validations per second. With `BENCH_BINARY=path` the
 * server is that compiled binary instead of the sources on this Bun.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor, decodeMessage, encodeMessage } from '../../src/api/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';
import { percentile } from './stats.ts';

const broker = await startMosquitto();
const dir = await tempDir('filament-api-bench-');
const socket = join(dir.path, 'api.sock');
const config = join(dir.path, 'filament.toml');
await writeFile(
  config,
  `[api]\nsocket = "${socket}"\n[log]\nlevel = "warn"\n[[models]]\nid = "llama"\nversion = "2026-10-01"\n`,
);
await publishOnce({
  url: broker.url,
  topic: rulesTopic('filament/v1', 'acme'),
  payload: jsonBytes(validationRuleSet(1)),
});
const binary = process.env.BENCH_BINARY;
const server = startSidecarProcess(
  sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: dir.path }),
  {},
  binary ? { path: binary, cwd: dir.path } : undefined,
);
console.log(`server: ${binary ?? 'the sources on this Bun'}`);

type Method = (this: unknown, ...args: unknown[]) => unknown;
const credentials = grpc.credentials.createInsecure();
const health = new (clientConstructor('grpc.health.v1.Health'))(
  `unix:${socket}`,
  credentials,
) as unknown as Record<string, Method>;
const sidecar = new (clientConstructor('filament.v1.Sidecar'))(
  `unix:${socket}`,
  credentials,
) as unknown as Record<string, Method>;
const validConfig = VALID_CONFIG_MESSAGE;
const check = () =>
  new Promise<unknown>((resolve, reject) =>
    health.Check?.call(health, { service: '' }, (e: Error | null, v: unknown) =>
      e ? reject(e) : resolve(v),
    ),
  );
const validate = () =>
  new Promise<{ ok: boolean }>((resolve, reject) =>
    sidecar.Validate?.call(
      sidecar,
      { config: validConfig },
      (e: Error | null, v: { ok: boolean }) => (e ? reject(e) : resolve(v)),
    ),
  );

for (let i = 0; ; i++) {
  try {
    if ((await check()) && (await validate()).ok) break;
  } catch {}
  if (i > 500) throw new Error('the sidecar never became ready');
  await Bun.sleep(20);
}

async function sequential(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) * 1000);
  }
  return times;
}

async function concurrent(
  fn: () => Promise<unknown>,
  inFlight: number,
  seconds: number,
): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await fn();
        done++;
      }
    }),
  );
  return done / seconds;
}

const rows: string[] = [];
await sequential(check, 2000);
await sequential(validate, 2000);
const checkTimes: number[] = [];
const validateTimes: number[] = [];
for (let round = 0; round < 5; round++) {
  checkTimes.push(...(await sequential(check, 2000)));
  validateTimes.push(...(await sequential(validate, 2000)));
}
for (const p of [50, 99]) {
  const c = percentile(checkTimes, p);
  const v = percentile(validateTimes, p);
  rows.push(
    `unary, sequential  p${p}: Check ${c.toFixed(0)} µs, Validate ${v.toFixed(0)} µs, ratio ${(v / c).toFixed(2)}x (target ≤ 1.15x)`,
  );
}
const checkRate = await concurrent(check, 64, 3);
const validateRate = await concurrent(validate, 64, 3);
rows.push(
  `unary, 64 in flight:  Check ${(checkRate / 1000).toFixed(1)}k/s, Validate ${(validateRate / 1000).toFixed(1)}k/s, ratio ${(checkRate / validateRate).toFixed(2)}x slower`,
);

// ValidateStream: keep a window of requests outstanding on one stream. The client sends
// pre-encoded requests and only counts responses (decoding every 1000th), so that it is the
// server's capacity that is measured rather than this client's protobuf encoding.
async function streamBench(label: string, batch: number, total: number): Promise<void> {
  const body =
    batch === 0
      ? encodeMessage('filament.v1.ValidateStreamRequest', { config: validConfig })
      : encodeMessage('filament.v1.ValidateStreamRequest', {
          batch: Array(batch).fill({ config: validConfig }),
        });
  const stream = (sidecar as unknown as grpc.Client).makeBidiStreamRequest(
    '/filament.v1.Sidecar/ValidateStream',
    (id: number) =>
      Buffer.concat([encodeMessage('filament.v1.ValidateStreamRequest', { id }), body]),
    (bytes: Buffer) => bytes,
  ) as grpc.ClientDuplexStream<number, Buffer>;
  const perMessage = Math.max(1, batch);
  const messages = Math.ceil(total / perMessage);
  const window = batch === 0 ? 2000 : 64;
  let sent = 0;
  let received = 0;
  const serverCpu0 = cpuOf(server.pid);
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < messages && sent - received < window) stream.write(sent++);
    };
    stream.on('data', (bytes: Buffer) => {
      if (received % 1000 === 0) {
        const response = decodeMessage<{
          result: { ok: boolean } | null;
          batch_results: Array<{ ok: boolean }>;
        }>('filament.v1.ValidateStreamResponse', bytes);
        const ok =
          batch === 0
            ? response.result?.ok
            : response.batch_results.length === batch && response.batch_results.every((r) => r.ok);
        if (!ok) reject(new Error(`unexpected answer: ${JSON.stringify(response)}`));
      }
      received++;
      if (received === messages) resolve();
      else if (sent - received < window / 2) pump();
    });
    stream.on('error', reject);
    pump();
  });
  const elapsed = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(clientCpu0);
  const serverCpu = cpuOf(server.pid) - serverCpu0;
  stream.end();
  const busy = (cpu: number) => `${((cpu / elapsed) * 100).toFixed(0)} %`;
  rows.push(
    `${label}: ${((messages * perMessage) / elapsed / 1000).toFixed(0)}k validations/s (target ≥ 100k/s); CPU: server ${busy(serverCpu)}, client ${busy((clientCpu.user + clientCpu.system) / 1e6)} of one core`,
  );
}
await streamBench('ValidateStream, one config per message', 0, 300_000);
await streamBench('ValidateStream, batches of 64', 64, 1_000_000);

console.log(
  `\nfilament local API over a unix socket — ${new Date().toISOString()}, Bun ${Bun.version}; server: a filament run process; client: grpc-js in this process\n`,
);
for (const row of rows) console.log(row);

(health as unknown as grpc.Client).close();
(sidecar as unknown as grpc.Client).close();
await server.kill();
await broker.stop();
await dir.remove();
process.exit(0);

/** CPU seconds used so far by process `pid` (user + system), from /proc. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
