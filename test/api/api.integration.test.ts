import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { decodeMessage } from '../../src/api/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { Sidecar } from '../../src/sidecar/index.ts';
import { type BufTarget, bufCurl, collect, grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

const validConfig = VALID_CONFIG_MESSAGE;

describe('the local gRPC API', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: Sidecar;
  let socket: string;
  let port: number;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-api-');
    socket = join(dir.path, 'api.sock');
    sidecar = new Sidecar(
      buildConfig({
        identity: { replica: 'host-a', cluster: 'gpu-east' },
        broker: { urls: [broker.url] },
        rules: { tenants: ['acme'] },
        state: { dir: dir.path },
        api: { socket, listen: '127.0.0.1:0' },
        models: [
          { id: 'llama', version: '2026-10-01' },
          { id: 'qwen', version: '1', ready: false },
        ],
      }),
    );
    await sidecar.start();
    port = sidecar.apiTcpPort as number;
  });

  afterAll(async () => {
    await sidecar.stop();
    await broker.stop();
    await dir.remove();
  });

  const publishRules = async (version: number) => {
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(validationRuleSet(version)),
    });
    await waitFor(
      () => (sidecar.store.active('acme')?.version === version ? true : undefined),
      `rules v${version}`,
    );
  };

  const ensureRules = async () => {
    if (sidecar.store.active('acme') === undefined) await publishRules(1);
  };

  test('health is NOT_SERVING before the first rule set and turns SERVING when it arrives, on Check and Watch', async () => {
    const client = grpcClients(`unix:${socket}`);
    expect(await client.check('')).toEqual({ status: 'NOT_SERVING' });
    expect(await client.check('filament.tenant.acme')).toEqual({ status: 'NOT_SERVING' });
    const stream = (
      client.health as unknown as {
        Watch(r: object): grpc.ClientReadableStream<{ status: string }>;
      }
    ).Watch({ service: '' });
    const statuses = collect(stream, 2);
    await publishRules(1);
    expect((await statuses).map((s) => s.status)).toEqual(['NOT_SERVING', 'SERVING']);
    expect(await client.check('')).toEqual({ status: 'SERVING' });
    expect(await client.check('filament.v1.Sidecar')).toEqual({ status: 'SERVING' });
    expect(await client.check('filament.tenant.acme')).toEqual({ status: 'SERVING' });
    stream.cancel();
    client.close();
  });

  test('Check of an unknown service is NOT_FOUND; Watch says SERVICE_UNKNOWN and stays open', async () => {
    const client = grpcClients(`unix:${socket}`);
    await expect(client.check('filament.tenant.globex')).rejects.toMatchObject({ code: 5 });
    const stream = (
      client.health as unknown as {
        Watch(r: object): grpc.ClientReadableStream<{ status: string }>;
      }
    ).Watch({ service: 'nope' });
    expect(await collect(stream, 1)).toEqual([{ status: 'SERVICE_UNKNOWN' }]);
    let ended = false;
    stream.on('end', () => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(ended).toBe(false);
    stream.cancel();
    client.close();
  });

  for (const transport of ['unix', 'tcp'] as const) {
    test(`grpc-js calls every Sidecar RPC over ${transport}`, async () => {
      await ensureRules();
      const client = grpcClients(transport === 'unix' ? `unix:${socket}` : `127.0.0.1:${port}`);
      expect(await client.check('filament.tenant.acme')).toEqual({ status: 'SERVING' });
      const healthWatch = (
        client.health as unknown as {
          Watch(r: object): grpc.ClientReadableStream<{ status: string }>;
        }
      ).Watch({ service: '' });
      expect(await collect(healthWatch, 1)).toEqual([{ status: 'SERVING' }]);
      healthWatch.cancel();
      const config = await client.getConfig();
      expect(config).toMatchObject({
        identity: { replica: 'host-a', cluster: 'gpu-east' },
        broker: { state: 'STATE_CONNECTED', url: broker.url },
        tenants: [
          {
            tenant: 'acme',
            active_version: 1,
            kept_versions: [1],
            last_ack: { status: 'applied', received_version: 1 },
          },
        ],
        models: [
          { id: 'llama', version: '2026-10-01', ready: true },
          { id: 'qwen', version: '1', ready: false },
        ],
        stopping: false,
      });

      expect(await client.validate({ config: validConfig })).toMatchObject({
        ok: true,
        rule_version: 1,
        role: 'TARGET_ROLE_DEFAULT',
        payload: 'PAYLOAD_OUTCOME_NONE',
      });
      const payload = {
        data: jsonBytes({ messages: [{ content: 7 }] }),
        content_type: 'application/json',
      };
      expect(await client.validate({ config: validConfig, payload })).toMatchObject({
        ok: false,
        code: 'REASON_CODE_PAYLOAD_INVALID',
        payload_path: '/messages/0/content',
        payload_keyword: 'type',
      });
      expect(await client.validate({ config: { ...validConfig, rule_version: 9 } })).toMatchObject({
        ok: false,
        code: 'REASON_CODE_HOST_BEHIND',
        field: 'rule_version',
      });

      const duplex = (
        client.sidecar as unknown as {
          ValidateStream(): grpc.ClientDuplexStream<
            object,
            {
              id: number;
              result: { ok: boolean; code: string } | null;
              batch_results: Array<{ ok: boolean; code: string }>;
            }
          >;
        }
      ).ValidateStream();
      const answers = collect(duplex, 4);
      duplex.write({ id: 1, config: validConfig });
      duplex.write({ id: 2, config: { ...validConfig, model: 'mistral' } });
      duplex.write({ id: 3 });
      duplex.write({
        id: 4,
        batch: [{ config: validConfig }, { config: { ...validConfig, cell: 'Z' } }, {}],
      });
      const got = await answers;
      duplex.end();
      expect(got.slice(0, 3).map((a) => [a.id, a.result?.ok, a.result?.code])).toEqual([
        [1, true, 'REASON_CODE_UNSPECIFIED'],
        [2, false, 'REASON_CODE_UNKNOWN_MODEL'],
        [3, false, 'REASON_CODE_INVALID_ARGUMENT'],
      ]);
      expect(got[3]?.id).toBe(4);
      expect(got[3]?.batch_results.map((r: { code: string }) => r.code)).toEqual([
        'REASON_CODE_UNSPECIFIED',
        'REASON_CODE_UNKNOWN_CELL',
        'REASON_CODE_INVALID_ARGUMENT',
      ]);

      const watch = (
        client.sidecar as unknown as {
          WatchConfig(
            r: object,
          ): grpc.ClientReadableStream<{ config: { tenants: Array<{ active_version: number }> } }>;
        }
      ).WatchConfig({});
      const first = await collect(watch, 1);
      expect(first[0]?.config.tenants[0]?.active_version).toBe(1);
      watch.cancel();
      client.close();
    });
  }

  test('ReportLoad feeds the saturation report that GetSaturation and WatchSaturation return', async () => {
    await ensureRules();
    const client = grpcClients(`unix:${socket}`);
    const sidecarClient = client.sidecar as unknown as {
      ReportLoad(
        cb: (e: grpc.ServiceError | null, v: { accepted: number }) => void,
      ): grpc.ClientWritableStream<object>;
      GetSaturation(
        r: object,
        cb: (
          e: grpc.ServiceError | null,
          v: {
            report: Record<string, unknown>;
            endpoint_load_metrics: string;
            endpoint_load_metrics_json: string;
          },
        ) => void,
      ): void;
      WatchSaturation(
        r: object,
      ): grpc.ClientReadableStream<{ report: { queue?: number; state: string } }>;
    };
    const watch = sidecarClient.WatchSaturation({});
    const first = await collect(watch, 1);
    expect(first[0]?.report.state).toMatch(/^REPLICA_STATE_/);
    const accepted = new Promise<{ accepted: number }>((resolve, reject) => {
      const push = sidecarClient.ReportLoad((error, value) =>
        error ? reject(error) : resolve(value),
      );
      push.write({ queue: 15, in_flight: 3 });
      push.write({
        models: [{ model: 'llama', queue: 12, in_flight: 40 }],
        kv_cache: 0.5,
        requests_per_second: 37.5,
        errors_per_second: 0.25,
      });
      push.end();
    });
    expect(await accepted).toEqual({ accepted: 2 });
    const answer = await new Promise<{
      report: Record<string, unknown>;
      endpoint_load_metrics: string;
      endpoint_load_metrics_json: string;
    }>((resolve, reject) =>
      sidecarClient.GetSaturation({}, (error, value) => (error ? reject(error) : resolve(value))),
    );
    const report = answer.report;
    expect(report).toMatchObject({
      replica: 'host-a',
      cluster: 'gpu-east',
      queue: 12,
      in_flight: 40,
      kv_cache: 0.5,
      requests_per_second: 37.5,
      errors_per_second: 0.25,
      rule_versions: [{ tenant: 'acme', version: 1 }],
    });
    // The per-response ORCA header form of the same load, for a server or proxy to attach.
    // No nvidia-smi here: cpu and mem utilization are the host's (CPU from its second sample on).
    expect(answer.endpoint_load_metrics).toMatch(
      /^TEXT application_utilization:[0-9.]+,(cpu_utilization:[0-9.e-]+,)?mem_utilization:[0-9.e-]+,rps_fractional:37\.5,eps:0\.25,named_metrics\.ready:[01],named_metrics\.queue:12,named_metrics\.running:40,named_metrics\.kv_cache:0\.5$/,
    );
    expect(report.host_memory).toBeGreaterThan(0);
    expect(JSON.parse(answer.endpoint_load_metrics_json.replace(/^JSON /, ''))).toMatchObject({
      rps_fractional: 37.5,
      eps: 0.25,
      utilization: { kv_cache: 0.5 },
      named_metrics: { queue: 12 },
    });
    // A value that would make a report resolvers refuse is refused, naming it; those before stay.
    const refused = await new Promise<grpc.ServiceError>((resolve) => {
      const push = sidecarClient.ReportLoad((error) => resolve(error as grpc.ServiceError));
      push.write({ queue: 11 });
      push.write({ kv_cache: 1.5 });
      push.write({ queue: 99 });
      push.end();
    });
    expect(refused.code).toBe(3); // INVALID_ARGUMENT
    expect(refused.details).toBe(
      'kv_cache: 1.5 is more than 1 (it is the fraction of the cache in use) (message 2; the 1 before it were applied)',
    );
    watch.cancel();
    const viaBuf = JSON.parse(
      (await bufCurl({ socket }, 'filament.v1.Sidecar/GetSaturation', {})).stdout,
    );
    // queue 11 is the message applied before the refused one.
    expect(viaBuf.report).toMatchObject({
      replica: 'host-a',
      queue: 11,
      inFlight: 40,
      requestsPerSecond: 37.5,
    });
    expect(viaBuf.endpointLoadMetrics).toMatch(/^TEXT application_utilization:/);
    client.close();
  });

  test('a call without a config is INVALID_ARGUMENT with a google.rpc.BadRequest naming the field', async () => {
    const client = grpcClients(`unix:${socket}`);
    const error = (await client.validate({}).catch((e) => e)) as grpc.ServiceError;
    expect(error.code).toBe(3);
    expect(error.details).toContain('config: an ObjectiveConfig is required');
    const [raw] = error.metadata.get('grpc-status-details-bin') as Buffer[];
    const status = decodeMessage<{
      code: number;
      details: Array<{ type_url: string; value: Buffer }>;
    }>('google.rpc.Status', raw as Buffer);
    expect(status.code).toBe(3);
    expect(status.details[0]?.type_url).toBe('type.googleapis.com/google.rpc.BadRequest');
    const badRequest = decodeMessage<{
      field_violations: Array<{ field: string; description: string }>;
    }>('google.rpc.BadRequest', status.details[0]?.value as Buffer);
    expect(badRequest.field_violations).toEqual([
      { field: 'config', description: 'an ObjectiveConfig is required' },
    ]);
    const empty = (await client
      .validate({ config: { ...validConfig, objective: '' } })
      .catch((e) => e)) as grpc.ServiceError;
    expect(empty.code).toBe(3);
    expect(empty.details).toContain('config.objective: objective is required');
    client.close();
  });

  for (const transport of ['unix', 'tcp'] as const) {
    test(`buf curl lists and calls every service through reflection over ${transport}`, async () => {
      await ensureRules();
      const target: BufTarget = transport === 'unix' ? { socket } : { port };
      const services = await bufCurl(target, '--list-services');
      expect(services.stderr).toBe('');
      expect(services.stdout.trim().split('\n').sort()).toEqual([
        'envoy.service.auth.v3.Authorization',
        'filament.v1.Sidecar',
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
        'xds.service.orca.v3.OpenRcaService',
      ]);
      expect(
        JSON.parse((await bufCurl(target, 'grpc.health.v1.Health/Check', { service: '' })).stdout),
      ).toEqual({ status: 'SERVING' });
      const config = JSON.parse(
        (await bufCurl(target, 'filament.v1.Sidecar/GetConfig', {})).stdout,
      );
      expect(config.identity).toMatchObject({ replica: 'host-a', cluster: 'gpu-east' });
      expect(config.tenants[0]).toMatchObject({ tenant: 'acme', activeVersion: '1' });
      const ok = JSON.parse(
        (await bufCurl(target, 'filament.v1.Sidecar/Validate', { config: validConfig })).stdout,
      );
      expect(ok).toMatchObject({ ok: true, ruleVersion: '1', role: 'TARGET_ROLE_DEFAULT' });
      const refused = JSON.parse(
        (
          await bufCurl(target, 'filament.v1.Sidecar/Validate', {
            config: { ...validConfig, schema_id: 'chat/v0' },
          })
        ).stdout,
      );
      expect(refused).toMatchObject({ code: 'REASON_CODE_SCHEMA_MISMATCH', field: 'schema_id' });
      const stream = await bufCurl(target, 'filament.v1.Sidecar/ValidateStream', [
        { id: 1, config: validConfig },
        {
          id: 2,
          config: {
            ...validConfig,
            model: 'qwen',
            model_version: '1',
            routing_key: 'acme.qwen',
            cell: 'B',
          },
        },
      ]);
      expect(stream.stdout).toContain('"id": "1"');
      expect(stream.stdout).toContain('REASON_CODE_MODEL_NOT_READY');
      // Watch streams never end by themselves: buf curl prints the first message, then times out.
      const watched = await bufCurl(target, 'filament.v1.Sidecar/WatchConfig', {}, '1s');
      expect(watched.stdout).toContain('"replica": "host-a"');
      const health = await bufCurl(
        target,
        'grpc.health.v1.Health/Watch',
        { service: 'filament.tenant.acme' },
        '1s',
      );
      expect(health.stdout).toContain('"status": "SERVING"');
      const bad = await bufCurl(target, 'filament.v1.Sidecar/Validate', {});
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain('invalid_argument');
      expect(bad.stderr).toContain('google.rpc.BadRequest');
    });
  }
});
