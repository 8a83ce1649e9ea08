import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startModelServerStandIn, vllmMetrics } from '../../src/demo/index.ts';
import type { MosquittoBroker } from '../../src/local-broker/index.ts';
import { Resolver } from '../../src/resolver/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'nvidia-smi');
const H100_LOAD = readFileSync(
  join(
    FIXTURES,
    'query-gpu',
    'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01__load__query-gpu.csv',
  ),
  'utf8',
);

/** The real H100 capture under load with cells changed (no capture shows these states). */
function h100(cells: Record<string, string>, utilization = '10 %'): string {
  const [header, row] = H100_LOAD.split('\n') as [string, string];
  const names = header.split(',').map((c) => c.trim().replace(/ \[.*\]$/, ''));
  const values = row.split(', ');
  for (const [column, value] of Object.entries({ ...cells, 'utilization.gpu': utilization }))
    values[names.indexOf(column)] = value;
  return `${header}\n${values.join(', ')}\n`;
}

let broker: MosquittoBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: Awaited<ReturnType<typeof startModelServerStandIn>>;
let sidecar: SidecarProcess;
let resolver: Resolver;
let output: string;

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-gpu-health-');
  server = await startModelServerStandIn();
  server.ready = true;
  server.metrics = vllmMetrics(0, 1, 0.1);
  // A stand-in nvidia-smi on PATH: prints whatever the test last wrote.
  const bin = join(dir.path, 'bin');
  output = join(dir.path, 'smi.out');
  await writeFile(output, h100({}));
  await Bun.$`mkdir -p ${bin}`;
  await writeFile(join(bin, 'nvidia-smi'), `#!/bin/sh\ncat '${output}'\n`);
  await chmod(join(bin, 'nvidia-smi'), 0o755);
  const config = join(dir.path, 'filament.toml');
  await writeFile(
    config,
    [
      '[inventory]',
      'source = "static"',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      'scrape_interval_ms = 100',
      'nvidia_smi = "auto"',
      'nvidia_smi_interval_ms = 100',
      'warmup_ms = 0',
      'smoothing = 1',
      'heartbeat_ms = 200',
      // The model the rules route here, loaded: a host that knows of no model is never READY.
      '[[models]]',
      'id = "llama-8b"',
      'version = "2026-10-01"',
    ].join('\n'),
  );
  resolver = new Resolver({ urls: [broker.url] });
  resolver.start();
  sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      tenant: 'acme',
      replica: 'gpu-host',
      stateDir: join(dir.path, 's'),
    }),
    { PATH: `${bin}:${process.env.PATH}` },
  );
  await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'rules');
});
afterAll(async () => {
  await resolver?.stop();
  await sidecar?.kill('SIGTERM');
  await server?.close();
  await broker?.stop();
  await dir?.remove();
});

const reportWhere = (what: string, ok: (r: Record<string, unknown>) => boolean) =>
  waitFor(() => {
    const r = resolver.replicas().find((e) => e.report.replica === 'gpu-host')?.report;
    return r && ok(r as never) ? r : undefined;
  }, what);

describe('GPU health from a stand-in nvidia-smi on PATH (a real H100 row, cells changed)', () => {
  test('healthy: READY, with the GPU signal and its memory', async () => {
    const report = await reportWhere('a READY report', (r) => r.state === 'READY');
    expect(report).toMatchObject({ gpu: 0.1, gpuMemory: 0.243 });
    expect(report.faults).toBeUndefined();
  });

  test('an uncorrectable ECC error: UNHEALTHY, naming it; cleared when the count is back to 0', async () => {
    await writeFile(output, h100({ 'ecc.errors.uncorrected.volatile.total': '2' }));
    const sick = await reportWhere('an UNHEALTHY report', (r) => r.state === 'UNHEALTHY');
    expect(sick.faults).toEqual(['GPU 0: 2 uncorrectable ECC errors since the driver loaded']);
    await sidecar.waitForLog(
      (l) => l.msg === 'hardware fault: the replica is UNHEALTHY',
      'the fault log line',
    );
    await writeFile(output, h100({}));
    await reportWhere('READY again', (r) => r.state === 'READY');
  });

  test('thermal slowdown: the same load scores higher', async () => {
    const before = (await reportWhere('READY', (r) => r.state === 'READY')).score as number;
    await writeFile(output, h100({ 'clocks_event_reasons.hw_thermal_slowdown': 'Active' }));
    const hot = await reportWhere('a throttled report', (r) => r.throttled === 0.5);
    // 1 − (1 − 0.1)·(1 − 0.5) = 0.55 against 0.1.
    expect(before).toBeCloseTo(0.1, 3);
    expect(hot.score as number).toBeCloseTo(0.55, 3);
  });

  test('the driver cannot be reached (the real exit-9 message): UNHEALTHY', async () => {
    const message = readFileSync(
      join(FIXTURES, 'error-driver-unreachable.exit9.stdout.txt'),
      'utf8',
    );
    await writeFile(output, message);
    await Bun.$`printf '#!/bin/sh\ncat %s\nexit 9\n' ${output} > ${join(dir.path, 'bin', 'nvidia-smi')}`;
    const sick = await reportWhere('UNHEALTHY', (r) => r.state === 'UNHEALTHY');
    expect(sick.faults).toEqual([message.trim()]);
  });
});
