import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { decodeReport, type SaturationReport } from '../../src/report/index.ts';
import {
  fastSaturationConfig,
  type ModelServerStub,
  startModelServerStub,
  vllmMetrics,
} from '../helpers/model-server-stub.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const metrics = (waiting: number) => vllmMetrics(waiting);

describe('saturation reports on a real broker', () => {
  let broker: MosquittoBroker;
  let server: ModelServerStub;
  let dir: { path: string; remove(): Promise<void> };
  let watcher: MqttClient;
  const reports: SaturationReport[] = [];
  const running: SidecarProcess[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    server = await startModelServerStub();
    dir = await tempDir('filament-reports-');
    watcher = mqtt.connect(broker.url, { protocolVersion: 5 });
    await new Promise<void>((resolve) =>
      watcher.on('connect', () =>
        watcher.subscribe('filament/v1/replicas/#', { qos: 1 }, () => resolve()),
      ),
    );
    watcher.on('message', (_topic, payload) => {
      const report = decodeReport(new Uint8Array(payload));
      if (!('error' in report)) reports.push(report);
    });
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(ruleSet('acme', 1)),
    });
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    watcher.end(true);
    await server.close();
    await broker.stop();
    await dir.remove();
  });

  const start = async (replica: string) => {
    const config = join(dir.path, `${replica}.toml`);
    await writeFile(config, fastSaturationConfig(server));
    const process = startSidecarProcess(
      sidecarArgs({
        config,
        brokers: [broker.url],
        tenant: 'acme',
        replica,
        stateDir: join(dir.path, replica),
      }),
    );
    running.push(process);
    return process;
  };
  const next = (replica: string, state: string, after = 0) =>
    waitFor(
      () => reports.find((r, i) => i >= after && r.replica === replica && r.state === state),
      `${replica} ${state}`,
    );

  test('COLD → WARMING → READY → SATURATED and back, as the model server changes', async () => {
    server.ready = false;
    server.metrics = metrics(0);
    await start('host-a');
    // The first report may precede the retained rules; a new rule version is reported at once.
    const cold = await waitFor(
      () =>
        reports.find(
          (r) => r.replica === 'host-a' && r.state === 'COLD' && r.ruleVersions?.acme === 1,
        ),
      'host-a COLD with rules',
    );
    expect(cold).toMatchObject({
      cluster: 'gpu-east',
      ruleVersions: { acme: 1 },
      queue: 0,
      running: 1,
      kvCache: 0.1,
    });
    server.ready = true;
    await next('host-a', 'WARMING');
    const ready = await next('host-a', 'READY');
    server.metrics = metrics(9);
    const saturated = await next('host-a', 'SATURATED', reports.indexOf(ready));
    expect(saturated.score).toBeGreaterThanOrEqual(0.85);
    expect(saturated.queue).toBe(9);
    server.metrics = metrics(1);
    const back = await next('host-a', 'READY', reports.indexOf(saturated));
    expect(back.seq).toBeGreaterThan(saturated.seq);
  });

  test('stale metrics count as saturated', async () => {
    const mark = reports.length;
    server.metricsStatus = 500;
    const stale = await waitFor(
      () => reports.find((r, i) => i >= mark && r.replica === 'host-a' && r.stale !== undefined),
      'a stale report',
      10_000,
    );
    expect(stale.state).toBe('SATURATED');
    server.metricsStatus = 200;
    await next('host-a', 'READY', reports.indexOf(stale));
  });

  test('kill -9 makes the broker publish the OFFLINE will', async () => {
    const p = await start('host-b');
    await next('host-b', 'READY');
    await p.kill('SIGKILL');
    const offline = await next('host-b', 'OFFLINE');
    expect(offline).toMatchObject({ replica: 'host-b', cluster: 'gpu-east', score: 1 });
  });

  test('SIGTERM publishes DRAINING, then OFFLINE, and exits 0', async () => {
    const p = await start('host-c');
    const ready = await next('host-c', 'READY');
    expect(await p.kill('SIGTERM')).toBe(0);
    const draining = await next('host-c', 'DRAINING', reports.indexOf(ready));
    const offline = await next('host-c', 'OFFLINE', reports.indexOf(draining));
    expect(offline.seq).toBeGreaterThan(draining.seq);
  });
});
