import { Buffer } from 'node:buffer';
import * as grpc from '@grpc/grpc-js';
import type { CheckAnswer, CheckInput } from '../request-check/index.ts';

/** The check as the ext_authz service calls it (the same one the HTTP endpoint answers). */
export type Check = (input: CheckInput) => CheckAnswer;

/** google.rpc.Code values the service answers with. */
const OK = 0;
const PERMISSION_DENIED = 7;

/**
 * Envoy's `envoy.service.auth.v3.Authorization` (ext_authz over gRPC) answered by filament's check:
 * the request's headers — and its body when Envoy sends it (`with_request_body`: `raw_body`, or
 * `body`; `x-envoy-auth-partial-body: true` marks a cut one, which is then not used) — judged as
 * the HTTP endpoint judges them. Allow: `OK` with `ok_response` headers Envoy adds upstream
 * (`filament-verdict`, `filament-rule-version`); refuse: `PERMISSION_DENIED` with a
 * `denied_response` carrying the status (421 elsewhere, 4xx refused), the `Filament-*` headers
 * and the JSON body. A fault answers `INTERNAL`, never an allow.
 */
export function authorizationService(check: Check): grpc.UntypedServiceImplementation {
  return {
    Check(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) {
      try {
        callback(null, checkResponse(check(checkInput(call.request))));
      } catch (error) {
        callback({
          code: grpc.status.INTERNAL,
          details: `the check failed: ${(error as Error).message}`,
        });
      }
    },
  };
}

interface Entry {
  readonly key?: string;
  readonly value?: string;
  readonly raw_value?: Uint8Array;
}

/** A CheckRequest (as decoded: maps as key/value entries) as the check's input. Pure. */
export function checkInput(request: unknown): CheckInput {
  const http =
    (request as { attributes?: { request?: { http?: Record<string, unknown> } } } | null)
      ?.attributes?.request?.http ?? {};
  const headers: Record<string, string | string[]> = {};
  const add = (key: string | undefined, value: string) => {
    if (!key) return;
    const name = key.toLowerCase();
    const seen = headers[name];
    headers[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  };
  for (const e of (http.headers as Entry[] | undefined) ?? []) add(e.key, e.value ?? '');
  const map = (http.header_map as { headers?: Entry[] } | undefined)?.headers ?? [];
  for (const e of map)
    add(e.key, e.raw_value?.length ? Buffer.from(e.raw_value).toString('utf8') : (e.value ?? ''));
  const partial = headers['x-envoy-auth-partial-body'] === 'true';
  if (partial) headers['filament-body'] = 'partial';
  const raw = http.raw_body as Uint8Array | undefined;
  const text = http.body as string | undefined;
  const body = raw?.length
    ? new Uint8Array(raw)
    : text
      ? new TextEncoder().encode(text)
      : undefined;
  const contentType = headers['content-type'];
  return {
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(typeof contentType === 'string' ? { contentType } : {}),
  };
}

/** The CheckResponse for an answer. Pure. */
export function checkResponse(answer: CheckAnswer): Record<string, unknown> {
  const options = (names: readonly string[]) =>
    Object.entries(answer.headers)
      .filter(([key]) => names.includes(key))
      .map(([key, value]) => ({ header: { key, value } }));
  if (answer.status === 200)
    return {
      status: { code: OK },
      ok_response: { headers: options(['filament-verdict', 'filament-rule-version']) },
    };
  return {
    status: { code: PERMISSION_DENIED, message: answer.headers['filament-reason'] ?? '' },
    denied_response: {
      status: { code: answer.status },
      headers: options(Object.keys(answer.headers)),
      body: answer.body,
    },
  };
}
