import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AckWatcher,
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { Resolver } from '../../src/resolver/index.ts';
import type { RuleSet } from '../../src/rules/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const BASE = 'meta-llama/Llama-3.1-8B-Instruct';
const POLL_MS = 250;

/** Each tenant has the base model and its own LoRA adapter named `support-v2`. */
function tenantRules(tenant: string): RuleSet {
  const model = (id: string, served: Record<string, string>) => ({
    id,
    version: '1',
    routingKey: `${tenant}.${id}`,
    cluster: 'gpu-east',
    schemaId: 'chat/v1',
    served,
  });
  return {
    tenant,
    version: 1,
    issuedAt: '2026-12-01T00:00:00Z',
    schemas: [{ id: 'chat/v1', schema: true }],
    models: [
      model('llama', { name: BASE }),
      model('support', {
        name: 'support-v2',
        adapterOf: 'llama',
        source: `/adapters/${tenant}/support-v2`,
      }),
      model('mistral', { name: 'mistralai/Mistral-7B-Instruct-v0.2', revision: 'b70aa865' }),
    ],
    objectives: [{ id: 'chat', defaultModel: 'llama', fallback: ['support', 'mistral'] }],
  } as RuleSet;
}

const request = (tenant: string, model: string) => ({
  config: {
    tenant,
    objective: 'chat',
    model,
    model_version: '1',
    rule_version: 1,
    schema_id: 'chat/v1',
    routing_key: `${tenant}.${model}`,
  },
});

let broker: Awaited<ReturnType<typeof startMosquitto>>;
let dir: Awaited<ReturnType<typeof tempDir>>;
const servers: ModelServerStandIn[] = [];
const sidecars: SidecarProcess[] = [];
const clients: Array<ReturnType<typeof grpcClients>> = [];

/** A `filament run` next to `server`, with no [[models]]: only the server's URL and preset. */
async function host(
  name: string,
  server: ModelServerStandIn,
  preset: 'vllm' | 'tgi',
  extra: readonly string[] = [],
) {
  const socket = join(dir.path, `${name}.sock`);
  const config = join(dir.path, `${name}.toml`);
  await writeFile(
    config,
    [
      '[rules]',
      'tenants = ["acme", "globex"]',
      '[api]',
      `socket = "${socket}"`,
      '[inventory]',
      `poll_interval_ms = ${POLL_MS}`,
      // Short, so the test of a silent server does not wait the default 10 s.
      'keep_last_good_ms = 2000',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      `preset = "${preset}"`,
      'warmup_ms = 0',
      'nvidia_smi = "off"',
      ...extra,
    ].join('\n'),
  );
  const sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      replica: name,
      stateDir: join(dir.path, name),
    }),
  );
  sidecars.push(sidecar);
  await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'start-up');
  const client = grpcClients(`unix:${socket}`);
  clients.push(client);
  return { sidecar, client };
}

let resolver: Resolver;
/**
 * The replicas the resolver would consider for an acme routing key, by name. (Which one it then
 * picks is decided by load: with two replicas, power of two choices always takes the less loaded.)
 */
function candidates(routingKey: string): string[] {
  return resolver.serving('gpu-east', { tenant: 'acme', routingKey });
}

/** Waits until `ask` answers with `code` ('' for OK), returning the answer. */
async function until(
  client: ReturnType<typeof grpcClients>,
  tenant: string,
  model: string,
  code: string,
) {
  return waitFor(
    async () => {
      const answer = await client.validate(request(tenant, model));
      const got = answer.ok ? '' : String(answer.code).replace('REASON_CODE_', '');
      return got === code ? answer : undefined;
    },
    `${tenant}/${model} to be ${code || 'OK'}`,
    10_000,
  );
}

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await tempDir('filament-inventory-');
  for (const tenant of ['acme', 'globex'])
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', tenant),
      payload: jsonBytes(tenantRules(tenant)),
    });
  for (let i = 0; i < 3; i++) {
    const server = await startModelServerStandIn();
    server.ready = true;
    server.metrics = vllmMetrics(0, 1, 0.1);
    servers.push(server);
  }
});
afterAll(async () => {
  await resolver?.stop();
  for (const c of clients) c.close();
  for (const s of sidecars) await s.kill('SIGTERM');
  for (const s of servers) await s.close();
  await broker.stop();
  await dir.remove();
});

describe('two sidecars judge requests by what their model servers actually have loaded', () => {
  test('models, adapters and whose they are, followed as the servers change', async () => {
    const [s1, s2] = servers as [ModelServerStandIn, ModelServerStandIn];
    s1.served = [
      { id: BASE, root: `/models/${BASE}` },
      { id: 'support-v2', parent: BASE, root: '/adapters/acme/support-v2' },
    ];
    s2.served = [{ id: BASE, root: `/models/${BASE}` }];
    resolver = new Resolver({ urls: [broker.url] });
    resolver.start();
    const r1 = await host('r1', s1, 'vllm');
    const r2 = await host('r2', s2, 'vllm');

    // What each server has is what its sidecar accepts.
    await until(r1.client, 'acme', 'llama', '');
    await until(r1.client, 'acme', 'support', '');
    await until(r2.client, 'acme', 'llama', '');
    const missing = await until(r2.client, 'acme', 'support', 'ADAPTER_NOT_LOADED');
    expect(missing.message).toBe(
      'adapter "support-v2" (model "support") is not loaded on this host',
    );
    // A resolver sends acme.support only to r1, acme.llama to both.
    await waitFor(
      () =>
        (candidates('acme.support').join() === 'r1' && candidates('acme.llama').length === 2) ||
        undefined,
      'the resolver to know what each host serves',
    );
    expect(
      resolver.pickServing('gpu-east', { tenant: 'acme', routingKey: 'acme.support' }),
    ).toEqual({ replica: 'r1' });
    // globex's support-v2 is another adapter of the same name: acme's weights must not serve it.
    const theirs = await until(r1.client, 'globex', 'support', 'ADAPTER_NOT_OURS');
    expect(theirs.message).toContain(
      'loaded from "/adapters/acme/support-v2", not from "/adapters/globex/support-v2"',
    );

    // An adapter loaded at run time on s2 makes its key servable there.
    s2.served = [
      ...s2.served,
      { id: 'support-v2', parent: BASE, root: '/adapters/acme/support-v2' },
    ];
    await until(r2.client, 'acme', 'support', '');
    await waitFor(
      () => candidates('acme.support').length === 2 || undefined,
      'r2 to serve support',
    );

    // s1 unloads the adapter: r1 refuses it, and the resolver stops picking r1 for that key
    // while still picking it for the base model's.
    s1.served = [{ id: BASE, root: `/models/${BASE}` }];
    await until(r1.client, 'acme', 'support', 'ADAPTER_NOT_LOADED');
    await waitFor(
      () => candidates('acme.support').join() === 'r2' || undefined,
      'r1 out for support',
    );
    expect(candidates('acme.llama')).toEqual(['r1', 'r2']);

    // s1 drops the base model: its sidecar refuses both it and the adapter on it; r2 is unaffected.
    const acks = await AckWatcher.connect(broker.url, 'filament/v1', 5);
    s1.served = [];
    const dropped = await until(r1.client, 'acme', 'llama', 'MODEL_NOT_LOADED');
    expect(dropped.message).toBe(`model "llama" (served as "${BASE}") is not loaded on this host`);
    await until(r1.client, 'acme', 'support', 'MODEL_NOT_LOADED');
    await until(r2.client, 'acme', 'llama', '');
    await waitFor(() => candidates('acme.llama').join() === 'r2' || undefined, 'r1 out for llama');
    // No host serves globex's adapter: the resolver says so instead of picking one.
    expect(
      resolver.pickServing('gpu-east', { tenant: 'globex', routingKey: 'globex.support' }),
    ).toEqual({
      replica: undefined,
      reason:
        'no replica in cluster "gpu-east" serves routing key "globex.support" of tenant "globex" (2 live, 0 with a servable set not yet received)',
    });
    // The ACK says so, and stays an ACK: the set is valid, this host lacks a model.
    const ack = await acks.next(
      (a) =>
        a.replica === 'r1' &&
        a.tenant === 'acme' &&
        a.serving?.unservable.some((u) => u.routingKey === 'acme.llama') === true,
    );
    await acks.close();
    expect(ack).toMatchObject({ status: 'applied', activeVersion: 1 });
    expect(ack.serving).toEqual({
      objectives: 1,
      unservableObjectives: 1,
      unservable: [
        {
          routingKey: 'acme.llama',
          model: 'llama',
          code: 'MODEL_NOT_LOADED',
          reason: `model "llama" (served as "${BASE}") is not loaded on this host`,
        },
        {
          routingKey: 'acme.mistral',
          model: 'mistral',
          code: 'MODEL_NOT_LOADED',
          reason:
            'model "mistral" (served as "mistralai/Mistral-7B-Instruct-v0.2") is not loaded on this host',
        },
        {
          routingKey: 'acme.support',
          model: 'support',
          code: 'MODEL_NOT_LOADED',
          reason: `model "llama" (served as "${BASE}") is not loaded on this host`,
        },
      ],
      summary: expect.stringContaining('1 of 1 objectives cannot be served here: MODEL_NOT_LOADED'),
    });

    // GetConfig says it too, and where the models come from.
    const r1Config = await r1.client.getConfig();
    const r1Acme = (r1Config.tenants as Array<Record<string, unknown>>).find(
      (t) => t.tenant === 'acme',
    );
    expect(r1Acme?.serving).toMatchObject({ objectives: 1, unservable_objectives: 1 });
    expect(r1Config.inventory).toMatchObject({
      source: 'vllm',
      endpoint: `vllm ${s1.base}/v1/models`,
      confirmed: true,
    });
    expect(await (await fetch(await metricsUrl(r1.sidecar))).text()).toContain(
      'filament_objectives_unservable{tenant="acme"} 1',
    );

    // s1 loads a model no rule routes here: its probe-less server is up and has a ready model,
    // but the host can serve nothing routed to it, so it must not look ready (nor best) to a
    // load balancer. Loading the base model again makes it READY.
    const stateOf = (replica: string) =>
      resolver.replicas().find((r) => r.report.replica === replica)?.report.state;
    s1.served = [{ id: BASE, root: `/models/${BASE}` }];
    await waitFor(() => stateOf('r1') === 'READY' || undefined, 'r1 to report READY');
    s1.served = [{ id: 'Qwen/Qwen2.5-7B-Instruct', root: '/models/Qwen/Qwen2.5-7B-Instruct' }];
    await waitFor(() => stateOf('r1') === 'COLD' || undefined, 'r1 to report COLD');
    expect(stateOf('r2')).toBe('READY');
    s1.served = [{ id: BASE, root: `/models/${BASE}` }];
    await waitFor(() => stateOf('r1') === 'READY' || undefined, 'r1 to report READY again');

    // GetConfig lists what the server has; /metrics counts it.
    const config = await r2.client.getConfig();
    expect((config.models as Array<{ id: string }>).map((m) => m.id).sort()).toEqual([
      BASE,
      `${BASE}:support-v2`,
    ]);
    const metrics = await (await fetch(await metricsUrl(r2.sidecar))).text();
    expect(metrics).toContain('filament_inventory_confirmed 1');
    expect(metrics).toContain('filament_inventory_models 2');
    expect(metrics).toMatch(/filament_inventory_changes_total [1-9]/);

    // The server stops answering: after the last good answer is no longer trusted, nothing is
    // accepted that cannot be confirmed.
    await s2.close();
    const unconfirmed = await until(r2.client, 'acme', 'llama', 'INVENTORY_UNCONFIRMED');
    expect(unconfirmed.message).toContain('cannot confirm that model "llama" is loaded');
    await r2.sidecar.waitForLog(
      (l) => l.msg === 'model server inventory unconfirmed: refusing its models',
      'the unconfirmed log line',
    );
  }, 60_000);

  test('a TGI server whose model_sha changes: MODEL_VERSION_MISMATCH', async () => {
    const s3 = servers[2] as ModelServerStandIn;
    s3.served = [{ id: 'mistralai/Mistral-7B-Instruct-v0.2', revision: 'b70aa865' }];
    // This host must serve Mistral at that revision: [[models]] is what is expected of it.
    const r3 = await host('r3', s3, 'tgi', [
      '[[models]]',
      'id = "mistralai/Mistral-7B-Instruct-v0.2"',
      'version = "b70aa865"',
    ]);
    await until(r3.client, 'acme', 'mistral', '');
    s3.served = [{ id: 'mistralai/Mistral-7B-Instruct-v0.2', revision: '0e9e39f2' }];
    const mismatch = await until(r3.client, 'acme', 'mistral', 'MODEL_VERSION_MISMATCH');
    expect(mismatch.message).toBe(
      'model "mistral" is loaded at revision "0e9e39f2" on this host, not "b70aa865"',
    );
    expect(mismatch.field).toBe('model_version');
    // Drift: named in GetConfig and the log, and the replica reports UNHEALTHY so resolvers avoid it.
    const config = await waitFor(async () => {
      const c = await r3.client.getConfig();
      return (c.drift as unknown[]).length > 0 ? c : undefined;
    }, 'drift in GetConfig');
    expect(config.drift).toEqual([
      {
        model: 'mistralai/Mistral-7B-Instruct-v0.2',
        version: 'b70aa865',
        problem: 'other-revision',
        detail:
          '"mistralai/Mistral-7B-Instruct-v0.2" is loaded at revision "0e9e39f2", not "b70aa865"',
      },
    ]);
    await r3.sidecar.waitForLog(
      (l) => l.msg === 'model drift: the server does not have what [[models]] expects',
      'the drift log line',
    );
    await waitFor(
      () =>
        resolver
          .replicas()
          .find((r) => r.report.replica === 'r3' && r.report.state === 'UNHEALTHY'),
      'r3 to report UNHEALTHY',
    );
    expect(resolver.replicas().find((r) => r.report.replica === 'r3')?.report.drift).toEqual([
      'mistralai/Mistral-7B-Instruct-v0.2',
    ]);
    // Back at the expected revision: drift clears, the replica serves again.
    s3.served = [{ id: 'mistralai/Mistral-7B-Instruct-v0.2', revision: 'b70aa865' }];
    await until(r3.client, 'acme', 'mistral', '');
    await waitFor(
      () =>
        resolver.replicas().find((r) => r.report.replica === 'r3' && r.report.state === 'READY'),
      'r3 to report READY again',
    );
  }, 30_000);
});
