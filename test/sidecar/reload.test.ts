import { describe, expect, test } from 'bun:test';
import { buildConfig } from '../../src/config/index.ts';
import { Sidecar } from '../../src/sidecar/index.ts';

const config = (models: Array<{ id: string; version: string }>, keepalive = 30) =>
  buildConfig({
    identity: { replica: 'r', cluster: 'c' },
    broker: { urls: ['mqtt://127.0.0.1:1'], keepalive_seconds: keepalive },
    rules: { tenants: ['acme'] },
    state: { dir: '/nonexistent/never-opened' },
    models,
  });

describe('Sidecar.reload', () => {
  test('applies models at once and names the fields that need a restart', async () => {
    const sidecar = new Sidecar(config([{ id: 'llama', version: '1' }]));
    const outcome = await sidecar.reload(config([{ id: 'qwen', version: '2' }], 12));
    expect(outcome).toEqual({ applied: ['models'], needsRestart: ['broker.keepaliveSeconds'] });
    expect(sidecar.models.list()).toEqual([{ id: 'qwen', version: '2', ready: true }]);
    expect(sidecar.config.broker.keepaliveSeconds).toBe(30);
  });

  test('applies nothing once stopping', async () => {
    const sidecar = new Sidecar(config([{ id: 'llama', version: '1' }]));
    await sidecar.stop();
    const outcome = await sidecar.reload(config([{ id: 'qwen', version: '2' }]));
    expect(outcome).toEqual({ applied: [], needsRestart: ['models'] });
    expect(sidecar.models.list()).toEqual([{ id: 'llama', version: '1', ready: true }]);
  });
});
