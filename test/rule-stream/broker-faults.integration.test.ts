import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { decodeReport } from '../../src/report/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const PREFIX = 'filament/v1';
const KEEPALIVE_S = 2;

// Faults a real broker goes through, against a real `filament run` process.
describe('broker faults: frozen, flapping (mosquitto)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: MosquittoBroker;
  let sidecar: SidecarProcess;
  let watcher: mqtt.MqttClient;
  const offline: number[] = [];

  beforeEach(async () => {
    dir = await tempDir('filament-faults-');
    // Persistence keeps retained sets and sessions across the restarts below, as in production.
    broker = await startMosquitto({ persistence: true });
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      [
        '[broker]',
        `keepalive_seconds = ${KEEPALIVE_S}`,
        'connect_timeout_ms = 1000',
        '[broker.reconnect]',
        'initial_ms = 100',
        'max_ms = 1000',
        '[api]',
        `socket = "${join(dir.path, 'api.sock')}"`,
        '[saturation]',
        'nvidia_smi = "off"',
      ].join('\n'),
    );
    sidecar = startSidecarProcess(
      sidecarArgs({
        config,
        brokers: [broker.url],
        tenant: 'acme',
        replica: 'r1',
        stateDir: dir.path,
      }),
    );
    await sidecar.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
    await publish(1);
    await applied(1);
  });
  afterEach(async () => {
    await watcher?.endAsync(true);
    await sidecar?.kill('SIGTERM');
    await broker?.stop();
    await dir?.remove();
    offline.length = 0;
  });

  const publish = (version: number) =>
    publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, 'acme'),
      payload: jsonBytes(ruleSet('acme', version)),
    });
  const applied = (version: number, timeoutMs = 10_000) =>
    sidecar.waitForLog(
      (l) => l.msg === 'applied rule set' && l.version === version,
      `v${version} applied`,
      timeoutMs,
    );

  /** Counts the OFFLINE reports (last wills) the broker publishes for this replica. */
  async function watchWills() {
    watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, writeCache: false });
    watcher.on('message', (_topic, payload, packet) => {
      if (packet.retain) return; // the retained state from before, not a new publication
      const report = decodeReport(payload);
      if ('state' in report && report.state === 'OFFLINE') offline.push(Date.now());
    });
    await watcher.subscribeAsync(`${PREFIX}/replicas/#`, { qos: 1 });
  }

  /** The retained report of r1 as a fresh subscriber sees it. */
  async function latestReport(): Promise<string> {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, writeCache: false });
    try {
      const state = new Promise<string>((resolve) =>
        client.on('message', (_topic, payload) => {
          const report = decodeReport(payload);
          resolve('state' in report ? report.state : 'undecodable');
        }),
      );
      await client.subscribeAsync(`${PREFIX}/replicas/gpu-east/r1`, { qos: 1 });
      return await state;
    } finally {
      await client.endAsync(true);
    }
  }

  test('a frozen broker (SIGSTOP: a half-open connection) is noticed within 1.5× keepalive, then left behind', async () => {
    await watchWills();
    const frozenAt = Date.now();
    broker.pause();
    const lost = await sidecar.waitForLog(
      (l) => l.msg === 'disconnected from broker' || l.msg === 'broker connection error',
      'the lost connection',
      KEEPALIVE_S * 3000,
    );
    const detectedMs = Date.parse(lost.time as string) - frozenAt;
    // mqtt.js closes after 1.5 keepalives without an answer; allow scheduling slack.
    expect(detectedMs).toBeLessThanOrEqual(KEEPALIVE_S * 1500 + 1000);
    expect(detectedMs).toBeGreaterThanOrEqual(KEEPALIVE_S * 1000);
    broker.resume();
    await sidecar.waitForLog(
      (l) => l.msg === 'connected to broker' && (l.reconnects as number) >= 1,
      'the reconnection',
    );
    await publish(2);
    await applied(2);
    // At most one will for the one lost connection, and the replica's own report follows it.
    expect(offline.length).toBeLessThanOrEqual(1);
    const report = await latestReport();
    expect(report).not.toBe('OFFLINE');
  });

  test('a flapping broker: reconnects with short, jittered delays, few wills, and ends on the newest version', async () => {
    await watchWills();
    for (let flap = 0; flap < 4; flap++) {
      await broker.restart();
      if (flap === 1) await publish(2); // published while the sidecar may still be away
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await publish(3);
    await applied(3, 15_000);
    const delays = sidecar.logs
      .filter((l) => l.msg === 'reconnecting')
      .map((l) => l.inMs as number);
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.every((ms) => ms >= 0 && ms <= 1000)).toBe(true);
    // Each broker restart ends the sidecar's connection at most once: at most one will per flap,
    // none for the clean connections the sidecar itself closes.
    expect(offline.length).toBeLessThanOrEqual(4);
  });
});
