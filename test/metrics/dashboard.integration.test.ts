import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';
import { freePort, startMosquitto, waitForPort } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = join(import.meta.dir, '..', '..');
const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'examples/grafana/filament-dashboard.json'), 'utf8'),
) as {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

let broker: Awaited<ReturnType<typeof startMosquitto>>;
let dir: Awaited<ReturnType<typeof tempDir>>;
let prometheus: ChildProcess;
let api: string;
const sidecars: SidecarProcess[] = [];
const servers: ModelServerStandIn[] = [];

/** Runs an instant query against the real Prometheus; returns its result vector. */
async function query(expr: string): Promise<unknown[]> {
  const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: unknown[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data?.result ?? [];
}

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await tempDir('filament-dashboard-');
  const publish = (doc: unknown) =>
    publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(doc),
    });
  await publish(ruleSet('acme', 1));
  const targets: string[] = [];
  for (const [i, replica] of ['r1', 'r2'].entries()) {
    const server = await startModelServerStandIn();
    server.ready = true;
    server.metrics = vllmMetrics(i * 6, 2, 0.3);
    servers.push(server);
    const socket = join(dir.path, `${replica}.sock`);
    const config = join(dir.path, `${replica}.toml`);
    await writeFile(
      config,
      [
        '[api]',
        `socket = "${socket}"`,
        '[inventory]',
        'source = "static"',
        '[[models]]',
        'id = "llama-8b"',
        'version = "2026-10-01"',
        '[saturation]',
        `metrics_url = "${server.base}/metrics"`,
        'warmup_ms = 0',
        'nvidia_smi = "off"',
      ].join('\n'),
    );
    const sidecar = startSidecarProcess(
      sidecarArgs({
        config,
        brokers: [broker.url],
        tenant: 'acme',
        replica,
        stateDir: join(dir.path, replica),
      }),
    );
    sidecars.push(sidecar);
    targets.push(new URL(await metricsUrl(sidecar)).host);
    await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'v1');
    // Traffic for the validation panels: good requests and a refused one.
    const client = grpcClients(`unix:${socket}`);
    const config1 = {
      tenant: 'acme',
      objective: 'chat',
      model: 'llama-8b',
      model_version: '2026-10-01',
      rule_version: 1,
      schema_id: 'chat/v1',
      routing_key: 'acme.llama-8b',
    };
    for (let k = 0; k < 20; k++) await client.validate({ config: config1 });
    await client.validate({ config: { ...config1, model_version: 'old' } });
    client.close();
  }
  // A NACK for the rejection panel.
  await publish({ ...ruleSet('acme', 3), objectives: [{ id: 'chat', defaultModel: 'nope' }] });
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  const cfg = join(dir.path, 'prometheus.yml');
  await writeFile(
    cfg,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${join(ROOT, 'examples/prometheus/filament-alerts.yml')}`,
      'scrape_configs:',
      '  - job_name: filament',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `"${t}"`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${cfg}`,
      `--storage.tsdb.path=${join(dir.path, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 10_000, '127.0.0.1');
  await waitFor(
    async () => ((await query('up == 1').catch(() => [])).length === 2 ? true : undefined),
    'both sidecars scraped',
    20_000,
    200,
  );
  // Rate windows need a few samples of each series.
  await Bun.sleep(6000);
}, 60_000);
afterAll(async () => {
  prometheus?.kill('SIGTERM');
  for (const s of sidecars) await s.kill('SIGTERM');
  for (const s of servers) await s.close();
  await broker.stop();
  await dir.remove();
});

describe('the Grafana dashboard, against a real Prometheus scraping real sidecars', () => {
  for (const panel of dashboard.panels)
    test(`"${panel.title}": every query returns data`, async () => {
      for (const target of panel.targets) {
        const expr = target.expr.replaceAll('$__rate_interval', '15s').replaceAll('$cluster', '.*');
        const series = await query(expr);
        if (series.length === 0) throw new Error(`no data for the panel query ${expr}`);
      }
    });

  test('the recording rules evaluate on real data', async () => {
    await waitFor(
      async () =>
        (await query('cluster:filament_saturation_score:avg')).length > 0 ? true : undefined,
      'the recording rule',
      10_000,
      200,
    );
    expect(await query('cluster:filament_replicas:count_by_state')).not.toHaveLength(0);
    expect(await query('tenant:filament_rules_active_version:max')).not.toHaveLength(0);
  });
});
