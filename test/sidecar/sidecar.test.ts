import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/index.ts';
import {
  ackTopic,
  InMemoryBroker,
  type InMemoryConnection,
  replicaTopic,
  rulesTopic,
} from '../../src/mqtt/index.ts';
import { decodeReport, type SaturationReport } from '../../src/report/index.ts';
import { Sidecar } from '../../src/sidecar/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

// The composition root wired to an in-memory broker: start order, reports, will, reconnection,
// clean stop, reload — in milliseconds. The same paths on mosquitto: reports.integration.test.ts, survival.integration.test.ts.

const PREFIX = 'filament/v1';
const REPORTS = replicaTopic(PREFIX, 'gpu-east', 'host-1');

function report(payload: Uint8Array): SaturationReport {
  const decoded = decodeReport(payload);
  if ('error' in decoded) throw new Error(decoded.error);
  return decoded;
}

describe('Sidecar on an in-memory broker', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: InMemoryBroker;
  let connection: InMemoryConnection | undefined;
  let sidecar: Sidecar;

  beforeEach(async () => {
    dir = await tempDir();
    broker = new InMemoryBroker();
    const publisher = broker.connect();
    publisher.start();
    await publisher.publishRetained(rulesTopic(PREFIX, 'acme'), jsonBytes(ruleSet('acme', 3)), {
      contentType: 'application/json',
    });
    sidecar = new Sidecar(
      buildConfig({
        identity: { replica: 'host-1', cluster: 'gpu-east' },
        broker: { urls: ['mqtt://unused.invalid:1883'] },
        rules: { tenants: ['acme'] },
        state: { dir: join(dir.path, 'state') },
        api: { socket: join(dir.path, 'api.sock') },
        metrics: { listen: 'off' },
        saturation: { nvidia_smi: 'off', heartbeat_ms: 60_000 },
        models: [{ id: 'llama-8b', version: '2026-10-01' }],
      }),
      {
        connect: (options) => {
          const will = options.will;
          connection = broker.connect(will !== undefined ? { will } : {});
          return connection;
        },
      },
    );
    await sidecar.start();
    await waitFor(() => sidecar.store.active('acme'), 'rules from the retained set');
  });
  afterEach(async () => {
    await sidecar.stop(100);
    await dir.remove();
  });

  test('applies the retained rules, ACKs them, and publishes a report naming their version', async () => {
    // The ACK follows the save to disk, which follows the apply.
    const ack = await waitFor(
      () => broker.retainedOn(ackTopic(PREFIX, 'acme', 'host-1')),
      'the ACK of v3',
    );
    expect(JSON.parse(new TextDecoder().decode(ack?.payload))).toMatchObject({
      status: 'applied',
      activeVersion: 3,
    });
    await waitFor(
      () =>
        report(broker.retainedOn(REPORTS)?.payload ?? new Uint8Array()).ruleVersions?.acme === 3
          ? true
          : undefined,
      'a report with v3',
    );
    expect(broker.retainedOn(REPORTS)?.contentType).toBe('application/msgpack');
    expect(sidecar.snapshot()).toMatchObject({
      replica: 'host-1',
      broker: { state: 'connected', url: 'memory://' },
      tenants: [{ tenant: 'acme', activeVersion: 3, highWater: 3 }],
    });
  });

  test('vanishing leaves the OFFLINE will; a reconnection reports at once', async () => {
    const reports = () => broker.publishedOn(REPORTS);
    connection?.drop();
    expect(reports().at(-1)).toMatchObject({ will: true });
    expect(report(broker.retainedOn(REPORTS)?.payload as Uint8Array).state).toBe('OFFLINE');
    connection?.reconnect();
    const after = report(broker.retainedOn(REPORTS)?.payload as Uint8Array);
    expect(after.state).not.toBe('OFFLINE');
    expect(await sidecar.metrics.brokerReconnects.get()).toMatchObject({
      values: [{ value: 1 }],
    });
  });

  test('a clean stop reports DRAINING, then OFFLINE, and sends no will', async () => {
    const before = broker.publishedOn(REPORTS).length;
    await sidecar.stop(100);
    const states = broker
      .publishedOn(REPORTS)
      .slice(before)
      .map((m) => `${report(m.payload).state}${m.will ? ' (will)' : ''}`);
    expect(states).toEqual(['DRAINING', 'OFFLINE']);
    expect(sidecar.health.isStopping).toBe(true);
  });

  test('a new rule version is applied, persisted, ACKed and reported', async () => {
    const publisher = broker.connect();
    publisher.start();
    await publisher.publishRetained(rulesTopic(PREFIX, 'acme'), jsonBytes(ruleSet('acme', 4)), {
      contentType: 'application/json',
    });
    await connection?.settled();
    expect(sidecar.store.active('acme')?.version).toBe(4);
    expect(report(broker.retainedOn(REPORTS)?.payload as Uint8Array).ruleVersions).toEqual({
      acme: 4,
    });
    expect(sidecar.snapshot().tenants[0]?.lastAck).toMatchObject({
      status: 'applied',
      persisted: true,
    });
  });

  test('validates in-process against the applied rules and counts the verdicts', async () => {
    const verdict = sidecar.validate({
      tenant: 'acme',
      objective: 'chat',
      model: 'llama-8b',
      modelVersion: '2026-10-01',
      ruleVersion: 3,
      schemaId: 'chat/v1',
      routingKey: 'acme.llama-8b',
    });
    expect(verdict).toMatchObject({ ok: true, role: 'default', ruleVersion: 3 });
    expect(await sidecar.metrics.text()).toContain('filament_validations_total{result="ok"} 1');
  });
});
