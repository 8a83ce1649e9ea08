import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from '../../src/api/index.ts';
import { objectiveBodyMember, writeObjectiveHeader } from '../../src/resolver/index.ts';
import {
  acmeObjective,
  type SidecarHost,
  startPayloadCheckingHost,
} from '../helpers/checked-host.ts';
import { bufCurl } from '../helpers/grpc-clients.ts';
import { waitFor } from '../helpers/wait.ts';

// Envoy's ext_authz over gRPC (envoy.service.auth.v3.Authorization/Check, from Envoy's own protos)
// served by a real sidecar on its API socket, asked by a client built from those protos and by
// buf curl through reflection. Not run against a real Envoy: no Envoy binary can be had here.

let host: SidecarHost;
let client: grpc.Client;
let socket: string;

interface CheckResponse {
  status: { code: number; message: string };
  ok_response?: { headers: Array<{ header: { key: string; value: string } }> };
  denied_response?: {
    status: { code: string };
    headers: Array<{ header: { key: string; value: string } }>;
    body: string;
  };
}

/** A CheckRequest as Envoy sends one: headers (a map), and the body when with_request_body is on. */
function check(headers: Record<string, string>, body?: string, rawBody?: Uint8Array) {
  const http = {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: Object.entries(headers).map(([key, value]) => ({ key, value })),
    ...(body !== undefined ? { body } : {}),
    ...(rawBody !== undefined ? { raw_body: rawBody } : {}),
  };
  return new Promise<CheckResponse>((resolve, reject) =>
    (
      client as unknown as Record<
        string,
        (r: object, cb: (e: Error | null, v: CheckResponse) => void) => void
      >
    ).Check?.({ attributes: { request: { http } } }, (error, value) =>
      error ? reject(error) : resolve(value),
    ),
  );
}

const header = (key: string, r: CheckResponse) =>
  [...(r.ok_response?.headers ?? []), ...(r.denied_response?.headers ?? [])].find(
    (h) => h.header.key === key,
  )?.header.value;
const carry = (over = {}) => ({
  'filament-objective': writeObjectiveHeader(acmeObjective(over)),
  'content-type': 'application/json',
});
const CHAT = '{"messages":[{"role":"user","content":"hi"}]}';

beforeAll(async () => {
  host = await startPayloadCheckingHost('filament-ext-authz-');
  socket = join(host.dir, 'api.sock');
  const Authorization = clientConstructor('envoy.service.auth.v3.Authorization');
  client = new Authorization(`unix:${socket}`, grpc.credentials.createInsecure());
  await waitFor(
    async () => ((await check(carry(), CHAT)).status.code === 0 ? true : undefined),
    'a first OK',
  );
});
afterAll(async () => {
  client?.close();
  await host?.stop();
});

describe('Envoy ext_authz over gRPC', () => {
  test('a matching request: OK, with headers Envoy adds upstream', async () => {
    const r = await check(carry(), CHAT);
    expect(r.status.code).toBe(0);
    expect(r.denied_response).toBeFalsy();
    expect(header('filament-verdict', r)).toBe('allow');
    expect(header('filament-rule-version', r)).toBe('1');
  });

  test('refusals: PERMISSION_DENIED with the HTTP status Envoy answers, the reason and the JSON body', async () => {
    const cases: Array<[string, Record<string, string>, string | undefined, string, string]> = [
      [
        'elsewhere',
        carry({
          model: 'qwen-7b',
          modelVersion: '2026-09-15',
          routingKey: 'acme.qwen-7b',
          cell: 'B',
        }),
        CHAT,
        'MisdirectedRequest',
        'MODEL_NOT_LOADED',
      ],
      ['refused', carry({ objective: 'nope' }), CHAT, 'Conflict', 'UNKNOWN_OBJECTIVE'],
      ['payload', carry(), '{"prompt":"x"}', 'UnprocessableEntity', 'PAYLOAD_INVALID'],
      [
        'malformed',
        { 'filament-objective': 'v1.%%' },
        undefined,
        'BadRequest',
        'CARRIER_MALFORMED',
      ],
      ['missing', {}, undefined, 'BadRequest', 'CARRIER_MISSING'],
      // Envoy joins repeated headers with commas in the map: still refused as duplicated.
      [
        'duplicated',
        {
          'filament-objective': `${carry()['filament-objective']},${carry()['filament-objective']}`,
        },
        undefined,
        'BadRequest',
        'CARRIER_DUPLICATED',
      ],
    ];
    for (const [what, headers, body, status, reason] of cases) {
      const r = await check(headers, body);
      expect({
        what,
        code: r.status.code,
        status: r.denied_response?.status.code,
        reason: header('filament-reason', r),
        body: JSON.parse(r.denied_response?.body ?? '{}').code,
      }).toEqual({ what, code: 7, status, reason, body: reason });
    }
  });

  test('the body as raw_body, the body form, and a partial body (x-envoy-auth-partial-body) judged on its header alone', async () => {
    const raw = await check(carry(), undefined, new TextEncoder().encode(CHAT));
    expect(raw.status.code).toBe(0);
    const invalidRaw = await check(carry(), undefined, new TextEncoder().encode('{"prompt":"x"}'));
    expect(header('filament-reason', invalidRaw)).toBe('PAYLOAD_INVALID');
    const bodyForm = await check(
      { 'content-type': 'application/json' },
      JSON.stringify({
        messages: [{ content: 'hi' }],
        filament: objectiveBodyMember(acmeObjective()),
      }),
    );
    expect(bodyForm.status.code).toBe(0);
    const partial = await check({ ...carry(), 'x-envoy-auth-partial-body': 'true' }, '{"messa');
    expect(partial.status.code).toBe(0);
  });

  test('buf curl (a Go client, through reflection) calls Check', async () => {
    const services = await bufCurl({ socket }, '--list-services');
    expect(services.stdout).toContain('envoy.service.auth.v3.Authorization');
    const ok = await bufCurl({ socket }, 'envoy.service.auth.v3.Authorization/Check', {
      attributes: { request: { http: { headers: carry(), body: CHAT } } },
    });
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toMatchObject({
      status: {},
      okResponse: { headers: expect.any(Array) },
    });
    const denied = JSON.parse(
      (
        await bufCurl({ socket }, 'envoy.service.auth.v3.Authorization/Check', {
          attributes: { request: { http: { headers: carry({ objective: 'nope' }) } } },
        })
      ).stdout,
    );
    expect(denied).toMatchObject({
      status: { code: 7 },
      deniedResponse: { status: { code: 'Conflict' } },
    });
  });
});
