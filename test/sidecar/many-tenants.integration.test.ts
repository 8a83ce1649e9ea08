import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/index.ts';
import { InMemoryBroker, rulesTopic } from '../../src/mqtt/index.ts';
import { Sidecar } from '../../src/sidecar/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

// The most tenants a sidecar may follow (rules.tenants is capped at 10,000), at run time.

const TENANTS = Array.from({ length: 10_000 }, (_, i) => `t${i}`);

describe('a sidecar following 10,000 tenants', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: InMemoryBroker;
  let sidecar: Sidecar;

  beforeAll(async () => {
    dir = await tempDir();
    broker = new InMemoryBroker();
    const publisher = broker.connect();
    publisher.start();
    for (const tenant of ['t0', 't4321', 't9999'])
      await publisher.publishRetained(
        rulesTopic('filament/v1', tenant),
        jsonBytes(ruleSet(tenant, 2)),
      );
    sidecar = new Sidecar(
      buildConfig({
        identity: { replica: 'host-1', cluster: 'gpu-east' },
        broker: { urls: ['mqtt://unused.invalid:1883'] },
        rules: { tenants: TENANTS },
        state: { dir: join(dir.path, 'state') },
        api: { socket: join(dir.path, 'api.sock') },
        metrics: { listen: '127.0.0.1:0' },
        saturation: { nvidia_smi: 'off' },
      }),
      { connect: () => broker.connect() },
    );
  });
  afterAll(async () => {
    await sidecar?.stop(100);
    await dir?.remove();
  });

  test('starts, applies the sets that exist, reports health per tenant, and scrapes', async () => {
    const started = performance.now();
    await sidecar.start();
    const startMs = performance.now() - started;
    await waitFor(() => sidecar.store.active('t9999'), 'the last tenant applied', 20_000);
    expect(sidecar.store.active('t4321')?.version).toBe(2);
    expect(sidecar.snapshot().tenants).toHaveLength(10_000);
    expect(sidecar.health.status('filament.tenant.t0')).toBe('SERVING');
    expect(sidecar.health.status('filament.tenant.t1')).toBe('NOT_SERVING');
    const text = await (await fetch(`http://127.0.0.1:${sidecar.metricsPort}/metrics`)).text();
    expect(text).toContain('filament_rules_active_version{tenant="t9999"} 2');
    console.log(`10,000 tenants: started in ${startMs.toFixed(0)} ms`);
  }, 60_000);
});
