import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';
import type { MosquittoBroker } from '../../src/local-broker/index.ts';
import { Resolver } from '../../src/resolver/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

let broker: MosquittoBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
let server: ModelServerStandIn;
let sidecar: SidecarProcess;
let resolver: Resolver;

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-canary-');
  // Answers /v1/models and /health at once, but its first real request takes 2.5 s.
  server = await startModelServerStandIn();
  server.ready = true;
  // It also has the model the rules route here (a host that can serve none of it stays COLD);
  // the canary names the first one.
  server.served = [{ id: MODEL }, { id: 'llama-8b' }];
  server.metrics = vllmMetrics(0, 0, 0);
  server.inferenceDelayMs = 2500;
  const config = join(dir.path, 'filament.toml');
  await writeFile(
    config,
    [
      '[inventory]',
      'poll_interval_ms = 200',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      'scrape_interval_ms = 100',
      'nvidia_smi = "off"',
      'warmup_ms = 300',
      'heartbeat_ms = 200',
      '[saturation.canary]',
      'enabled = true',
      'timeout_ms = 10000',
      'retry_ms = 300',
      'idle_ms = 1000',
      'unhealthy_after = 3',
    ].join('\n'),
  );
  resolver = new Resolver({ urls: [broker.url] });
  resolver.start();
  sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      tenant: 'acme',
      replica: 'cold-start',
      stateDir: join(dir.path, 's'),
    }),
  );
  await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'start-up');
});
afterAll(async () => {
  await resolver?.stop();
  await sidecar?.kill('SIGTERM');
  await server?.close();
  await broker?.stop();
  await dir?.remove();
});

const states = () =>
  resolver.replicas().find((e) => e.report.replica === 'cold-start')?.report.state;

describe('the canary: a server whose /health answers long before it can serve', () => {
  test('stays COLD until a real request succeeds, then WARMING and READY', async () => {
    const seen: string[] = [];
    const t0 = Date.now();
    const ready = await waitFor(
      () => {
        const s = states();
        if (s !== undefined && seen.at(-1) !== s) seen.push(s);
        return s === 'READY' ? Date.now() - t0 : undefined;
      },
      'READY',
      15_000,
      10,
    );
    console.log(`states seen: ${seen.join(' → ')}; READY after ${ready} ms`);
    expect(seen[0]).toBe('COLD');
    expect(seen).toContain('WARMING');
    expect(seen.indexOf('WARMING')).toBeGreaterThan(seen.indexOf('COLD'));
    // The canary was a one-token completion naming the model the server lists.
    expect(JSON.parse(server.generations[0] as string)).toMatchObject({
      model: MODEL,
      max_tokens: 1,
    });
    // The first request's latency is recorded and shown.
    const line = await sidecar.waitForLog(
      (l) => l.msg === 'canary passed: the model server serves',
      'the canary log line',
    );
    expect(line.firstLatencyMs as number).toBeGreaterThanOrEqual(2400);
    const metrics = await (await fetch(await metricsUrl(sidecar))).text();
    expect(metrics).toMatch(/filament_canary_first_latency_seconds 2\.[4-9]/);
  }, 30_000);

  test('after an idle period it is proven again, and canaries never count as load', async () => {
    // Now warm: a canary takes 300 ms. The stand-in counts them like any request, in its
    // finished-request counter and its inference-time histogram, as a real server would.
    server.inferenceDelayMs = 300;
    const served = () => server.generations.length;
    Object.defineProperty(server, 'metrics', {
      configurable: true,
      get: () =>
        [
          vllmMetrics(0, 0, 0, { requests: served() }).trimEnd(),
          '# TYPE vllm:request_inference_time_seconds histogram',
          `vllm:request_inference_time_seconds_sum{model_name="m"} ${served() * 0.3}`,
          `vllm:request_inference_time_seconds_count{model_name="m"} ${served()}`,
          '',
        ].join('\n'),
    });
    const before = served();
    const seen: Array<{ rate?: number; latency?: number; state: string }> = [];
    const off = resolver.onReport((r) =>
      seen.push({
        state: r.state,
        ...(r.requestRate !== undefined ? { rate: r.requestRate } : {}),
        ...(r.latencyMs !== undefined ? { latency: r.latencyMs } : {}),
      }),
    );
    await Bun.sleep(5000);
    off();
    // No traffic for 1 s at a time: a canary each time, and the replica stays READY.
    expect(served() - before).toBeGreaterThanOrEqual(2);
    expect(seen.every((r) => r.state === 'READY')).toBe(true);
    // Left out of the load: no request rate and no latency from the canaries.
    expect(seen.filter((r) => (r.rate ?? 0) > 0 || r.latency !== undefined)).toEqual([]);
  }, 15_000);
});
