import type { ObjectiveConfig, Payload, Verdict } from '../validation/index.ts';
import type { ConfigSnapshot } from './sidecar-backend.ts';

/** filament.v1.ObjectiveConfig as proto-loader hands it over (camelCase, defaults filled). */
export interface ObjectiveConfigMessage {
  tenant: string;
  objective: string;
  model: string;
  modelVersion: string;
  ruleVersion: number;
  schemaId: string;
  routingKey: string;
  cell: string;
}

/** filament.v1.Payload as proto-loader hands it over. */
export interface PayloadMessage {
  data: Uint8Array;
  contentType: string;
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
    modelVersion: m.modelVersion,
    ruleVersion: m.ruleVersion,
    schemaId: m.schemaId,
    routingKey: m.routingKey,
  };
  return m.cell ? { ...config, cell: m.cell } : config;
}

/** Converts an optional payload message; an absent one means no payload. */
export function toPayload(m: PayloadMessage | null | undefined): Payload | undefined {
  if (m === null || m === undefined) return undefined;
  return m.contentType ? { bytes: m.data, contentType: m.contentType } : { bytes: m.data };
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
      ruleVersion: v.ruleVersion,
      role: ROLE[v.role],
      payload: PAYLOAD[v.payload],
    };
  return {
    ok: false,
    code: `REASON_CODE_${v.code}`,
    message: v.message,
    field: v.field === undefined ? '' : protoFieldName(v.field),
    payloadPath: v.path ?? '',
    payloadKeyword: v.keyword ?? '',
  };
}

/** A config snapshot as a filament.v1.GetConfigResponse. */
export function toConfigResponse(s: ConfigSnapshot): Record<string, unknown> {
  return {
    identity: { replica: s.replica, cluster: s.cluster, filamentVersion: s.filamentVersion },
    broker: {
      state: `STATE_${s.broker.state.toUpperCase()}`,
      url: s.broker.url ?? '',
      reconnects: s.broker.reconnects,
      sinceUnixMs: s.broker.since,
    },
    tenants: s.tenants.map((t) => ({
      tenant: t.tenant,
      activeVersion: t.activeVersion ?? 0,
      keptVersions: t.keptVersions,
      highWaterVersion: t.highWater,
      appliedUnixMs: t.appliedAt ?? 0,
      lastAck: t.lastAck
        ? {
            receivedVersion: t.lastAck.receivedVersion ?? 0,
            status: t.lastAck.status,
            activeVersion: t.lastAck.activeVersion ?? 0,
            code: t.lastAck.code ?? '',
            path: t.lastAck.path ?? '',
            reason: t.lastAck.reason ?? '',
            persisted: t.lastAck.persisted,
            at: t.lastAck.at,
          }
        : null,
    })),
    models: s.models.map((m) => ({ id: m.id, version: m.version, ready: m.ready })),
    stopping: s.stopping,
  };
}
