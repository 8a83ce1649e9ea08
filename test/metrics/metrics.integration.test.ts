import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { Sidecar } from '../../src/sidecar/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

describe('/metrics', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: Sidecar;
  let url: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-metrics-');
    sidecar = new Sidecar(
      buildConfig({
        identity: { replica: 'host-m', cluster: 'gpu-east' },
        broker: { urls: [broker.url] },
        rules: { tenants: ['acme'] },
        state: { dir: dir.path },
        metrics: { listen: '127.0.0.1:0' },
        saturation: { nvidia_smi: 'off' },
        models: [{ id: 'llama-8b', version: '2026-10-01' }],
      }),
    );
    await sidecar.start();
    url = `http://127.0.0.1:${sidecar.metricsPort}/metrics`;
    const topic = rulesTopic('filament/v1', 'acme');
    await publishOnce({ url: broker.url, topic, payload: jsonBytes(ruleSet('acme', 2)) });
    await waitFor(() => sidecar.store.active('acme'), 'rules');
    await publishOnce({ url: broker.url, topic, payload: jsonBytes(ruleSet('acme', 1)) });
    await waitFor(
      () => (sidecar.snapshot().tenants[0]?.lastAck?.status === 'rejected' ? true : undefined),
      'the NACK',
    );
    const config = {
      tenant: 'acme',
      objective: 'chat',
      model: 'llama-8b',
      modelVersion: '2026-10-01',
      ruleVersion: 2,
      schemaId: 'chat/v1',
      routingKey: 'acme.llama-8b',
    };
    sidecar.validate(config);
    sidecar.validate({ ...config, ruleVersion: 7 });
  });

  afterAll(async () => {
    await sidecar.stop();
    await broker.stop();
    await dir.remove();
  });

  test('reports rules, broker, validations, saturation and process metrics', async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const line of [
      'filament_rules_active_version{tenant="acme"} 2',
      'filament_rules_high_water_version{tenant="acme"} 2',
      'filament_rule_messages_total{tenant="acme",status="applied"} 1',
      'filament_rule_messages_total{tenant="acme",status="rejected"} 1',
      'filament_rule_rejections_total{tenant="acme",code="VERSION_REGRESSION"} 1',
      'filament_broker_connected 1',
      'filament_rules_trusted_keys 0',
      'filament_validations_total{result="ok"} 1',
      'filament_validations_total{result="HOST_BEHIND"} 1',
      'filament_validation_duration_seconds_count 2',
      'filament_saturation_state{state="READY"}',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/^filament_saturation_score \d/m);
    expect(text).toMatch(/^filament_saturation_reports_total [1-9]/m);
    expect(text).toMatch(/^filament_process_resident_memory_bytes \d/m);
  });

  test('passes promtool check metrics', async () => {
    const text = await (await fetch(url)).text();
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ out: promtool.stdout + promtool.stderr }).toEqual({ out: '' });
    expect(promtool.status).toBe(0);
  });

  test('answers 404 elsewhere', async () => {
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
  });

  test('a port that is taken is logged, not fatal', async () => {
    const second = new Sidecar(
      buildConfig({
        identity: { replica: 'host-n', cluster: 'gpu-east' },
        broker: { urls: [broker.url] },
        rules: { tenants: ['acme'] },
        state: { dir: join(dir.path, 'n') },
        metrics: { listen: `127.0.0.1:${sidecar.metricsPort}` },
        saturation: { nvidia_smi: 'off' },
      }),
    );
    await second.start();
    expect(second.metricsPort).toBeNull();
    await second.stop();
  });
});
