import {
  MAX_FIELD_LENGTH,
  MAX_SERVED_MODELS,
  type ServedModel,
  vllmErrorMessage,
} from '../inventory/index.ts';
import type { SaturationReport } from '../report/index.ts';
import type { PushedLoad } from '../saturation/index.ts';
import type { ObjectiveConfig, Payload, Verdict } from '../validation/index.ts';
import type { ConfigSnapshot } from './sidecar-backend.ts';

// Messages cross the gRPC edge with their .proto field names (snake_case, see MESSAGE_OPTIONS);
// this file is the one place that translates them to and from the engine's camelCase types.

/** filament.v1.ObjectiveConfig as the API hands it over (defaults filled). */
export interface ObjectiveConfigMessage {
  tenant: string;
  objective: string;
  model: string;
  model_version: string;
  rule_version: number;
  schema_id: string;
  routing_key: string;
  cell: string;
}

/** filament.v1.Payload as the API hands it over. */
export interface PayloadMessage {
  data: Uint8Array;
  content_type: string;
}

const SNAKE: Readonly<Record<string, string>> = {
  modelVersion: 'model_version',
  ruleVersion: 'rule_version',
  schemaId: 'schema_id',
  routingKey: 'routing_key',
};

/** The proto field name (snake_case) of an ObjectiveConfig field. */
export function protoFieldName(field: string): string {
  return SNAKE[field] ?? field;
}

/** Converts a request message to the engine's ObjectiveConfig. */
export function toObjectiveConfig(m: ObjectiveConfigMessage): ObjectiveConfig {
  const config: ObjectiveConfig = {
    tenant: m.tenant,
    objective: m.objective,
    model: m.model,
    modelVersion: m.model_version,
    ruleVersion: m.rule_version,
    schemaId: m.schema_id,
    routingKey: m.routing_key,
  };
  return m.cell ? { ...config, cell: m.cell } : config;
}

/** Converts an optional payload message; an absent one means no payload. */
export function toPayload(m: PayloadMessage | null | undefined): Payload | undefined {
  if (m === null || m === undefined) return undefined;
  return m.content_type ? { bytes: m.data, contentType: m.content_type } : { bytes: m.data };
}

const ROLE: Readonly<Record<string, string>> = {
  default: 'TARGET_ROLE_DEFAULT',
  cell: 'TARGET_ROLE_CELL',
  canary: 'TARGET_ROLE_CANARY',
  shadow: 'TARGET_ROLE_SHADOW',
  fallback: 'TARGET_ROLE_FALLBACK',
};

const PAYLOAD: Readonly<Record<string, string>> = {
  none: 'PAYLOAD_OUTCOME_NONE',
  off: 'PAYLOAD_OUTCOME_OFF',
  'sampled-out': 'PAYLOAD_OUTCOME_SAMPLED_OUT',
  checked: 'PAYLOAD_OUTCOME_CHECKED',
};

/** A verdict as a filament.v1.ValidateResponse. */
export function toValidateResponse(v: Verdict): Record<string, unknown> {
  if (v.ok)
    return {
      ok: true,
      rule_version: v.ruleVersion,
      role: ROLE[v.role],
      payload: PAYLOAD[v.payload],
    };
  return {
    ok: false,
    code: `REASON_CODE_${v.code}`,
    message: v.message,
    field: v.field === undefined ? '' : protoFieldName(v.field),
    payload_path: v.path ?? '',
    payload_keyword: v.keyword ?? '',
  };
}

/** A config snapshot as a filament.v1.GetConfigResponse. */
export function toConfigResponse(s: ConfigSnapshot): Record<string, unknown> {
  return {
    identity: { replica: s.replica, cluster: s.cluster, filament_version: s.filamentVersion },
    broker: {
      state: `STATE_${s.broker.state.toUpperCase()}`,
      url: s.broker.url ?? '',
      reconnects: s.broker.reconnects,
      since_unix_ms: s.broker.since,
    },
    tenants: s.tenants.map((t) => ({
      tenant: t.tenant,
      active_version: t.activeVersion ?? 0,
      kept_versions: t.keptVersions,
      high_water_version: t.highWater,
      applied_unix_ms: t.appliedAt ?? 0,
      last_ack: t.lastAck
        ? {
            received_version: t.lastAck.receivedVersion ?? 0,
            status: t.lastAck.status,
            active_version: t.lastAck.activeVersion ?? 0,
            code: t.lastAck.code ?? '',
            path: t.lastAck.path ?? '',
            reason: t.lastAck.reason ?? '',
            persisted: t.lastAck.persisted,
            at: t.lastAck.at,
          }
        : null,
      signed_by: t.signedBy,
      serving: t.serving
        ? {
            objectives: t.serving.objectives,
            unservable_objectives: t.serving.unservableObjectives,
            unservable: t.serving.unservable.map((u) => ({
              routing_key: u.routingKey,
              model: u.model,
              code: u.code,
              reason: u.reason,
            })),
            summary: t.serving.summary,
          }
        : null,
    })),
    models: s.models.map((m) => ({ id: m.id, version: m.version, ready: m.ready })),
    stopping: s.stopping,
    signatures: {
      trusted_key_ids: s.signatures.trustedKeyIds,
      threshold: s.signatures.threshold,
    },
    inventory: {
      source: s.inventory.source,
      endpoint: s.inventory.endpoint,
      confirmed: s.inventory.confirmed,
      unconfirmed_reason: s.inventory.unconfirmedReason ?? '',
      last_answer_unix_ms: s.inventory.lastAnswerAt ?? 0,
    },
    drift: s.drift.map((d) => ({
      model: d.id,
      version: d.version,
      problem: d.problem,
      detail: d.detail,
    })),
    checks: {
      answered: s.checks.answered,
      by_verdict: mapEntries(s.checks.byVerdict),
      by_reason: mapEntries(s.checks.byReason),
    },
  };
}

/** A proto map as the repeated key/value entries the embedded types take. */
function mapEntries(map: Readonly<Record<string, number>>): Array<{ key: string; value: number }> {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}

/** filament.v1.ReportLoadRequest as the API hands it over (unset optional fields absent). */
export interface ReportLoadMessage {
  queue?: number;
  in_flight?: number;
  kv_cache?: number;
  models: Array<{ model: string; queue: number; in_flight: number }>;
  latency_ms?: number;
  requests_per_second?: number;
  errors_per_second?: number;
}

/**
 * Pushed load in the engine's terms; per-model numbers add up when totals are not given.
 * `{ error }` names the first value that is not a finite non-negative number (or a KV-cache use
 * above 1): such a value would make a report resolvers refuse.
 */
export function toLoad(
  m: ReportLoadMessage,
): PushedLoad | { error: { field: string; description: string } } {
  for (const field of [
    'kv_cache',
    'latency_ms',
    'requests_per_second',
    'errors_per_second',
  ] as const) {
    const value = m[field];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      return { error: { field, description: `${value} is not a finite number of at least 0` } };
  }
  if (m.kv_cache !== undefined && m.kv_cache > 1)
    return {
      error: {
        field: 'kv_cache',
        description: `${m.kv_cache} is more than 1 (it is the fraction of the cache in use)`,
      },
    };
  const models = m.models ?? [];
  const queue =
    m.queue ?? (models.length > 0 ? models.reduce((t, x) => t + x.queue, 0) : undefined);
  const running =
    m.in_flight ?? (models.length > 0 ? models.reduce((t, x) => t + x.in_flight, 0) : undefined);
  return {
    ...(queue !== undefined ? { queue } : {}),
    ...(running !== undefined ? { running } : {}),
    ...(m.kv_cache !== undefined ? { kvCache: m.kv_cache } : {}),
    ...(m.latency_ms !== undefined ? { latency: m.latency_ms } : {}),
    ...(m.requests_per_second !== undefined ? { requestRate: m.requests_per_second } : {}),
    ...(m.errors_per_second !== undefined ? { errorRate: m.errors_per_second } : {}),
  };
}

/** A saturation report as a filament.v1.SaturationReport. */
export function toReportMessage(r: SaturationReport): Record<string, unknown> {
  return {
    replica: r.replica,
    cluster: r.cluster,
    state: `REPLICA_STATE_${r.state}`,
    score: r.score,
    ...(r.queue !== undefined ? { queue: r.queue } : {}),
    ...(r.running !== undefined ? { in_flight: r.running } : {}),
    ...(r.kvCache !== undefined ? { kv_cache: r.kvCache } : {}),
    ...(r.gpu !== undefined ? { gpu: r.gpu } : {}),
    ...(r.latencyMs !== undefined ? { latency_ms: r.latencyMs } : {}),
    ...(r.requestRate !== undefined ? { requests_per_second: r.requestRate } : {}),
    ...(r.errorRate !== undefined ? { errors_per_second: r.errorRate } : {}),
    ...(r.gpuMemory !== undefined ? { gpu_memory: r.gpuMemory } : {}),
    ...(r.hostCpu !== undefined ? { host_cpu: r.hostCpu } : {}),
    ...(r.hostMemory !== undefined ? { host_memory: r.hostMemory } : {}),
    signal_age_ms: r.signalAgeMs ?? 0,
    stale_signals: r.stale ?? [],
    models: (r.models ?? []).map((m) => ({ id: m.id, version: m.version, ready: m.ready })),
    rule_versions: Object.entries(r.ruleVersions ?? {}).map(([tenant, version]) => ({
      tenant,
      version,
    })),
    seq: r.seq,
    at_unix_ms: r.at,
  };
}

/** filament.v1.DeclaredModel as the API hands it over (defaults filled). */
export interface DeclaredModelMessage {
  name: string;
  revision: string;
  root: string;
  parent: string;
  state: string;
  reason: string;
  max_context_tokens: number;
}

const DECLARED_STATES: ReadonlySet<string> = new Set(['ready', 'loading', 'unavailable']);

/**
 * Declared models in domain terms, or the first problem (with the field's path): every name
 * present, fields at most {@linkcode MAX_FIELD_LENGTH} characters, a known state, at most
 * {@linkcode MAX_SERVED_MODELS} entries.
 */
export function toServedModels(
  messages: readonly DeclaredModelMessage[],
): { models: ServedModel[] } | { error: string } {
  if (messages.length > MAX_SERVED_MODELS)
    return { error: `models: ${messages.length} declared; at most ${MAX_SERVED_MODELS}` };
  const models: ServedModel[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as DeclaredModelMessage;
    if (m.name === '') return { error: `models[${i}].name is required` };
    for (const field of ['name', 'revision', 'root', 'parent', 'reason'] as const)
      if (m[field].length > MAX_FIELD_LENGTH)
        return { error: `models[${i}].${field} is longer than ${MAX_FIELD_LENGTH} characters` };
    const state = m.state === '' ? 'ready' : m.state;
    if (!DECLARED_STATES.has(state))
      return {
        error: `models[${i}].state must be "ready", "loading" or "unavailable" (got "${m.state}")`,
      };
    models.push({
      name: m.name,
      state: state as ServedModel['state'],
      ...(m.revision ? { revision: m.revision } : {}),
      ...(m.root ? { root: m.root } : {}),
      ...(m.parent ? { parent: m.parent } : {}),
      ...(m.reason && state !== 'ready' ? { reason: readableReason(m.reason) } : {}),
      ...(m.max_context_tokens ? { maxContextTokens: m.max_context_tokens } : {}),
    });
  }
  return { models };
}

/**
 * A declared reason as a sentence: an adapter controller may pass on vLLM's error body from a
 * failed `/v1/load_lora_adapter` as it came; its message is what an operator needs.
 */
function readableReason(reason: string): string {
  return reason.trimStart().startsWith('{') ? vllmErrorMessage(reason) : reason;
}
