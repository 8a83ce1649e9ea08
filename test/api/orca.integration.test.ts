import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
// grpc-js 1.14 does not re-export its ORCA client at the top level.
import { createOrcaClient } from '@grpc/grpc-js/build/src/orca.js';
import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';
import type { MosquittoBroker } from '../../src/local-broker/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import { bufCurl } from '../helpers/grpc-clients.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let broker: MosquittoBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: ModelServerStandIn;
let sidecar: SidecarProcess;
let socket: string;

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-orca-');
  server = await startModelServerStandIn();
  server.ready = true;
  server.metrics = vllmMetrics(0, 2, 0.2);
  socket = join(dir.path, 'api.sock');
  const config = join(dir.path, 'filament.toml');
  await writeFile(
    config,
    [
      '[api]',
      `socket = "${socket}"`,
      '[orca]',
      'listen = "127.0.0.1:0"',
      '[inventory]',
      'source = "static"',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      'scrape_interval_ms = 50',
      'evaluate_interval_ms = 50',
      'warmup_ms = 0',
      'smoothing = 1',
      'nvidia_smi = "off"',
      // The model the rules route here, loaded: a host that knows of no model is never READY.
      '[[models]]',
      'id = "llama-8b"',
      'version = "2026-10-01"',
    ].join('\n'),
  );
  sidecar = startSidecarProcess(
    sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: join(dir.path, 's') }),
  );
  await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'v1');
});
afterAll(async () => {
  await sidecar.kill('SIGTERM');
  await server.close();
  await broker.stop();
  await dir.remove();
});

describe('ORCA out-of-band load reports (xds.service.orca.v3.OpenRcaService)', () => {
  test("grpc-js's own ORCA client reads them: at once, on the interval, and they follow the load", async () => {
    const channel = new grpc.Channel(`unix:${socket}`, grpc.credentials.createInsecure(), {});
    const client = createOrcaClient(channel);
    const reports: Array<{
      application_utilization: number;
      named_metrics: Record<string, number>;
      at: number;
    }> = [];
    const t0 = performance.now();
    const stream = client.streamCoreMetrics({
      report_interval: { seconds: 0, nanos: 300_000_000 },
    });
    stream.on(
      'data',
      (r: { application_utilization: number; named_metrics: Record<string, number> }) =>
        reports.push({ ...r, at: performance.now() - t0 }),
    );
    stream.on('error', () => {});
    await Bun.sleep(1100);
    // At once, then about every 300 ms.
    expect(reports[0]?.at).toBeLessThan(250);
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.length).toBeLessThanOrEqual(6);
    const idle = reports.at(-1);
    expect(idle?.named_metrics.queue).toBe(0);
    expect(idle?.named_metrics.ready).toBe(1);
    server.metrics = vllmMetrics(40, 64, 0.97);
    const deadline = Date.now() + 5000;
    while ((reports.at(-1)?.named_metrics.queue ?? 0) !== 40 && Date.now() < deadline)
      await Bun.sleep(50);
    const busy = reports.at(-1);
    expect(busy?.named_metrics.queue).toBe(40);
    expect(busy?.application_utilization).toBeGreaterThan(
      (idle?.application_utilization ?? 1) + 0.3,
    );
    stream.cancel();
    client.close();
    server.metrics = vllmMetrics(0, 2, 0.2);
  });

  test("rps_fractional and eps are the model server's request and error rates, from its counters", async () => {
    // The stand-in's counters grow with time: 200 requests and 10 failures per second.
    const t0 = Date.now();
    const tick = () => {
      const ms = Date.now() - t0;
      server.metrics = vllmMetrics(0, 2, 0.2, {
        requests: 5000 + Math.floor(ms * 0.2),
        errors: 7 + Math.floor(ms * 0.01),
      });
    };
    tick();
    const ticker = setInterval(tick, 10);
    const channel = new grpc.Channel(`unix:${socket}`, grpc.credentials.createInsecure(), {});
    const client = createOrcaClient(channel);
    const reports: Array<{ rps_fractional: number; eps: number }> = [];
    const stream = client.streamCoreMetrics({
      report_interval: { seconds: 0, nanos: 250_000_000 },
    });
    stream.on('data', (r: { rps_fractional: number; eps: number }) => reports.push(r));
    stream.on('error', () => {});
    await Bun.sleep(2000);
    stream.cancel();
    client.close();
    clearInterval(ticker);
    server.metrics = vllmMetrics(0, 2, 0.2);
    // Each scrape's rate is over ~50 ms, so one may be off by a tick; the mean of the last few is not.
    const last = reports.slice(-4);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `ORCA rps_fractional (last 4): ${last.map((r) => r.rps_fractional.toFixed(1)).join(', ')}; eps: ${last.map((r) => r.eps.toFixed(1)).join(', ')}`,
    );
    expect(mean(last.map((r) => r.rps_fractional))).toBeGreaterThan(150);
    expect(mean(last.map((r) => r.rps_fractional))).toBeLessThan(250);
    expect(mean(last.map((r) => r.eps))).toBeGreaterThan(4);
    expect(mean(last.map((r) => r.eps))).toBeLessThan(16);
  });

  test('buf curl (an independent Go client) finds it by reflection and reads the stream', async () => {
    const list = await bufCurl({ socket }, '--list-methods');
    expect(list.stdout).toContain('xds.service.orca.v3.OpenRcaService/StreamCoreMetrics');
    const read = await bufCurl(
      { socket },
      'xds.service.orca.v3.OpenRcaService/StreamCoreMetrics',
      { reportInterval: '0.3s' },
      '1s',
    );
    const messages = read.stdout.split(/\n(?=\{)/).filter((m) => m.trim() !== '');
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(messages[0] as string)).toMatchObject({ namedMetrics: { ready: 1 } });
  });

  test('the [orca] port serves the load reports (and reflection of them) and nothing else', async () => {
    const line = await sidecar.waitForLog(
      (l) => l.msg === 'ORCA load reports listening',
      'the ORCA port',
    );
    const address = String(line.tcp);
    expect(address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {});
    const client = createOrcaClient(channel);
    const first = await new Promise<{ named_metrics: Record<string, number> }>(
      (resolve, reject) => {
        const stream = client.streamCoreMetrics({ report_interval: { seconds: 1, nanos: 0 } });
        stream.on('data', (r: { named_metrics: Record<string, number> }) => {
          resolve(r);
          stream.cancel();
        });
        stream.on('error', (e: grpc.ServiceError) => (e.code === 1 ? undefined : reject(e)));
      },
    );
    client.close();
    expect(first.named_metrics.ready).toBe(1);
    // Validation, ReportLoad, DeclareModels, health and reflection stay on the local listeners.
    const other = new grpc.Client(address, grpc.credentials.createInsecure());
    const unimplemented = await new Promise<grpc.ServiceError>((resolve) =>
      other.makeUnaryRequest(
        '/filament.v1.Sidecar/GetConfig',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e as grpc.ServiceError),
      ),
    );
    other.close();
    expect(unimplemented.code).toBe(grpc.status.UNIMPLEMENTED);
    const port = { port: Number(address.split(':')[1]) };
    const services = await bufCurl(port, '--list-services');
    expect(services.status).toBe(0);
    expect(services.stdout).toContain('xds.service.orca.v3.OpenRcaService');
    expect(services.stdout).not.toContain('filament.v1.Sidecar');
    // Reflection describes the ORCA service there, so buf curl needs no --schema to read it.
    const read = await bufCurl(
      port,
      'xds.service.orca.v3.OpenRcaService/StreamCoreMetrics',
      { reportInterval: '0.3s' },
      '1s',
    );
    expect(read.stdout).toContain('namedMetrics');
  });

  test('a too-short interval is raised to 250 ms', async () => {
    const channel = new grpc.Channel(`unix:${socket}`, grpc.credentials.createInsecure(), {});
    const client = createOrcaClient(channel);
    let count = 0;
    const stream = client.streamCoreMetrics({ report_interval: { seconds: 0, nanos: 1_000_000 } });
    stream.on('data', () => count++);
    stream.on('error', () => {});
    await Bun.sleep(1000);
    stream.cancel();
    client.close();
    expect(count).toBeLessThanOrEqual(6);
    expect(count).toBeGreaterThanOrEqual(3);
  });
});
