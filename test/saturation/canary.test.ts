import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ModelServerStandIn, startModelServerStandIn } from '../../src/demo/index.ts';
import { CanaryCheck, presetCanary } from '../../src/saturation/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

let server: ModelServerStandIn;
beforeAll(async () => {
  server = await startModelServerStandIn();
});
afterAll(() => server.close());

function check(model: string | null = 'llama') {
  return new CanaryCheck({
    request: () => presetCanary('vllm', server.base, model ?? undefined),
    timeoutMs: 1000,
    retryMs: 100,
    idleMs: 0,
    unhealthyAfter: 3,
    completed: () => undefined,
    clock: new FakeClock(),
  });
}

describe('CanaryCheck', () => {
  test("the presets' requests: a one-token completion", () => {
    expect(presetCanary('vllm', 'http://h:8000/', 'm')).toEqual({
      url: 'http://h:8000/v1/completions',
      body: '{"model":"m","prompt":"Hi","max_tokens":1,"temperature":0}',
    });
    expect(presetCanary('tgi', 'http://h:8000', undefined)?.url).toBe('http://h:8000/generate');
    expect(presetCanary('vllm', 'http://h:8000', undefined)).toBeUndefined(); // needs a model
    expect(presetCanary('triton', 'http://h:8000', 'm')).toBeUndefined(); // configure one
  });

  test('failures keep it unproven, and enough of them in a row make it unhealthy', async () => {
    server.inferenceStatus = 500;
    const c = check();
    expect(c.contribution()).toEqual({ canary: { proven: false, unhealthy: false } });
    for (let i = 0; i < 2; i++) expect(await c.probe()).toBe(false);
    expect(c.contribution()).toEqual({ canary: { proven: false, unhealthy: false } });
    expect(c.status.error).toContain('answered 500');
    await c.probe();
    expect(c.contribution()).toEqual({ canary: { proven: false, unhealthy: true } });
    server.inferenceStatus = 200;
    expect(await c.probe()).toBe(true);
    expect(c.contribution()).toEqual({ canary: { proven: true, unhealthy: false } });
    expect(c.totals()).toMatchObject({ count: 4, inFlight: false });
    expect(c.firstLatencyMs).toBeDefined();
  });

  test('no model to name yet is not a failure of the server', async () => {
    const c = check(null);
    for (let i = 0; i < 5; i++) expect(await c.probe()).toBe(false);
    expect(c.contribution()).toEqual({ canary: { proven: false, unhealthy: false } });
    expect(c.totals().count).toBe(0);
  });
});
