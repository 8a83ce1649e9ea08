/**
 * In-process validation benchmark (not part of `npm test`): `bun test/bench/validate.bench.ts`.
 * Prints metadata-only throughput and per-call p50/p99, and payload validation MB/s for a
 * ~4 KB JSON and a ~4 KB MessagePack payload.
 */
import { pack } from 'msgpackr';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { validationFixture } from '../helpers/validation-fixture.ts';
import { percentile } from './stats.ts';

const { validator, config } = validationFixture();
const configs = [
  config(),
  config({ model: 'qwen', routingKey: 'acme.qwen', modelVersion: '1', cell: 'B' }),
  config({ model: 'fallback', routingKey: 'acme.fallback', modelVersion: '1' }),
  config({ ruleVersion: 4, modelVersion: '2026-10-01' }),
];

function throughput(label: string, seconds: number, fn: (i: number) => boolean): number {
  for (let i = 0; i < 200_000; i++) fn(i); // warm-up
  let calls = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) if (!fn(calls + i)) throw new Error(`${label}: refused`);
    calls += 10_000;
  }
  const perSecond = calls / seconds;
  console.log(`${label.padEnd(44)} ${(perSecond / 1e6).toFixed(2)} M/s`);
  return perSecond;
}

function latency(label: string, samples: number, fn: (i: number) => boolean): void {
  const batch = 100;
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn(s * batch + i);
    times.push(((performance.now() - t0) / batch) * 1000);
  }
  console.log(
    `${label.padEnd(44)} p50 ${percentile(times, 50).toFixed(3)} µs, p99 ${percentile(times, 99).toFixed(3)} µs (mean of ${batch} per sample)`,
  );
}

console.log(`filament in-process validation — ${new Date().toISOString()}, Bun ${Bun.version}\n`);
const metadata = (i: number) => validator.validate(configs[i & 3] as (typeof configs)[number]).ok;
throughput('metadata-only validate, throughput', 3, metadata);
latency('metadata-only validate, per call', 20_000, metadata);

const chat = {
  messages: Array.from({ length: 24 }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `message ${i} ${'lorem ipsum '.repeat(12)}`,
  })),
};
const json = jsonBytes(chat);
const packed = new Uint8Array(pack(chat));
for (const [label, payload] of [
  [
    `payload JSON (${(json.byteLength / 1024).toFixed(1)} KiB)`,
    { bytes: json, contentType: 'application/json' },
  ],
  [
    `payload MessagePack (${(packed.byteLength / 1024).toFixed(1)} KiB)`,
    { bytes: packed, contentType: 'application/msgpack' },
  ],
] as const) {
  const perSecond = throughput(
    `${label}, validations`,
    2,
    () => validator.validate(configs[0] as (typeof configs)[number], payload).ok,
  );
  console.log(
    `${''.padEnd(44)} ${((perSecond * payload.bytes.byteLength) / 1024 / 1024).toFixed(0)} MB/s`,
  );
}
