import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import type { RuleSet } from '../../src/rules/index.ts';
import { bufCurl, grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const rules: RuleSet = {
  tenant: 'acme',
  version: 1,
  issuedAt: '2026-12-01T00:00:00Z',
  schemas: [{ id: 'chat/v1', schema: true }],
  models: [
    {
      id: 'llama',
      version: '1',
      routingKey: 'acme.llama',
      cluster: 'gpu-east',
      schemaId: 'chat/v1',
    },
    {
      id: 'support',
      version: '1',
      routingKey: 'acme.support',
      cluster: 'gpu-east',
      schemaId: 'chat/v1',
      served: { adapterOf: 'llama', source: '/adapters/acme/support' },
    },
  ],
  objectives: [{ id: 'chat', defaultModel: 'llama', fallback: ['support'] }],
} as RuleSet;

const ask = (model: string) => ({
  config: {
    tenant: 'acme',
    objective: 'chat',
    model,
    model_version: '1',
    rule_version: 1,
    schema_id: 'chat/v1',
    routing_key: `acme.${model}`,
  },
});

let broker: Awaited<ReturnType<typeof startMosquitto>>;
let dir: Awaited<ReturnType<typeof tempDir>>;
let sidecar: SidecarProcess;
let socket: string;
let client: ReturnType<typeof grpcClients>;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await tempDir('filament-push-');
  await publishOnce({
    url: broker.url,
    topic: rulesTopic('filament/v1', 'acme'),
    payload: jsonBytes(rules),
  });
  socket = join(dir.path, 'api.sock');
  const config = join(dir.path, 'filament.toml');
  await writeFile(
    config,
    [
      '[api]',
      `socket = "${socket}"`,
      '[inventory]',
      'source = "push"',
      '[saturation]',
      'nvidia_smi = "off"',
    ].join('\n'),
  );
  sidecar = startSidecarProcess(
    sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: join(dir.path, 's') }),
  );
  await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'v1 applied');
  client = grpcClients(`unix:${socket}`);
});
afterAll(async () => {
  client?.close();
  await sidecar?.kill('SIGTERM');
  await broker.stop();
  await dir.remove();
});

describe('a model server declares what it has loaded (inventory.source = "push")', () => {
  const declare = (request: object) => client.declareModels(request);

  test('nothing is accepted before the first declaration', async () => {
    expect(await client.validate(ask('llama'))).toMatchObject({
      ok: false,
      code: 'REASON_CODE_INVENTORY_UNCONFIRMED',
    });
  });

  test('a declaration takes effect by the time the call returns; changes and unloads follow', async () => {
    expect(await declare({ models: [{ name: 'llama', root: '/models/llama' }] })).toEqual({
      models: 1,
    });
    expect(await client.validate(ask('llama'))).toMatchObject({ ok: true });
    expect(await client.validate(ask('support'))).toMatchObject({
      code: 'REASON_CODE_ADAPTER_NOT_LOADED',
    });
    // The independent Go client declares the adapter loaded, as a change.
    const loaded = await bufCurl({ socket }, 'filament.v1.Sidecar/DeclareModels', {
      models: [{ name: 'support', parent: 'llama', root: '/adapters/acme/support' }],
      changesOnly: true,
    });
    expect(loaded.stderr).toBe('');
    expect(JSON.parse(loaded.stdout)).toEqual({ models: 2 });
    expect(await client.validate(ask('support'))).toMatchObject({ ok: true });
    expect(await declare({ unloaded: ['support'], changes_only: true })).toEqual({ models: 1 });
    expect(await client.validate(ask('support'))).toMatchObject({
      code: 'REASON_CODE_ADAPTER_NOT_LOADED',
    });
  });

  test("a failed adapter load, declared with vLLM's error body as the reason, reads as its message", async () => {
    const body = readFileSync(
      join(import.meta.dir, '../fixtures/model-apis/vllm-load_lora_adapter-error-404-kubeai.json'),
      'utf8',
    );
    await declare({
      models: [
        {
          name: 'support',
          parent: 'llama',
          root: '/adapters/acme/support',
          state: 'unavailable',
          reason: body,
        },
      ],
      changes_only: true,
    });
    expect(await client.validate(ask('support'))).toMatchObject({
      ok: false,
      code: 'REASON_CODE_MODEL_NOT_READY',
      message:
        'model "support" is unavailable on this host: NotFoundError: Call to add_lora method failed: Loading lora sql_adapter failed: No adapter found for /path/to/sql-lora-adapter',
    });
    await declare({ unloaded: ['support'], changes_only: true });
  });

  test('a bad declaration is refused, naming the field, and changes nothing', async () => {
    await expect(declare({ models: [{ name: 'llama', state: 'sleepy' }] })).rejects.toMatchObject({
      code: 3,
      details: 'models[0].state must be "ready", "loading" or "unavailable" (got "sleepy")',
    });
    await expect(declare({ models: [{ root: '/x' }] })).rejects.toMatchObject({
      details: 'models[0].name is required',
    });
    expect(await client.validate(ask('llama'))).toMatchObject({ ok: true });
  });
});
