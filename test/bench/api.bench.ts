/**
 * Local API benchmark (not part of `npm test`): `bun test/bench/api.bench.ts`.
 * A real `filament run` process serves its unix socket; this process is the client. Prints
 * unary Validate p50/p99 next to a bare health Check on the same server (sequential and with
 * 64 calls in flight), and ValidateStream validations per second.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from '../../src/api/index.ts';
import { startMosquitto } from '../../src/broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { validationRuleSet } from '../helpers/validation-fixture.ts';
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
const server = startSidecarProcess(
  sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: dir.path }),
);

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
const validConfig = {
  tenant: 'acme',
  objective: 'chat',
  model: 'llama',
  model_version: '2026-10-01',
  rule_version: 1,
  schema_id: 'chat/v1',
  routing_key: 'acme.llama',
};
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

// ValidateStream: keep a window of requests outstanding on one stream.
const stream = sidecar.ValidateStream?.call(sidecar) as grpc.ClientDuplexStream<
  object,
  { id: number; result: { ok: boolean } }
>;
const total = 300_000;
const window = 2000;
let sent = 0;
let received = 0;
const t0 = performance.now();
await new Promise<void>((resolve, reject) => {
  const pump = () => {
    while (sent < total && sent - received < window)
      stream.write({ id: sent++, config: validConfig });
  };
  stream.on('data', (response) => {
    if (!response.result.ok) reject(new Error('refused'));
    received++;
    if (received === total) resolve();
    else if (sent - received < window / 2) pump();
  });
  stream.on('error', reject);
  pump();
});
const streamRate = total / ((performance.now() - t0) / 1000);
stream.end();
rows.push(
  `ValidateStream, one stream, ${window} outstanding: ${(streamRate / 1000).toFixed(0)}k validations/s (target ≥ 100k/s)`,
);

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
