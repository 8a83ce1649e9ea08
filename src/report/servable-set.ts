import type { ValidateFunction } from 'ajv';
import { decodeJson } from '../codec/index.ts';
import { formatViolation, toViolations } from '../json-schema/index.ts';
import { validate as generatedValidate } from './servable-set.validator.generated.ts';

/** One tenant's part of a {@linkcode ServableSet}. */
export interface TenantServable {
  readonly tenant: string;
  readonly version: number;
  /** Routing keys of the host's cluster it can serve now. */
  readonly keys: readonly string[];
  /** Rule-set model ids of the host's cluster it can serve now. */
  readonly models: readonly string[];
  readonly unservable: ReadonlyArray<{
    readonly routingKey: string;
    readonly model: string;
    readonly code: string;
    readonly reason: string;
  }>;
}

/**
 * What one host can serve now, per tenant, as resolvers read it from
 * `{prefix}/inventory/{cluster}/{replica}` (retained JSON, `servable-set.schema.json`).
 */
export interface ServableSet {
  readonly v: 1;
  readonly replica: string;
  readonly cluster: string;
  readonly seq: number;
  /** 16 hex digits of the SHA-256 of the canonical `{confirmed, tenants}`. */
  readonly digest: string;
  readonly at: number;
  readonly confirmed: boolean;
  readonly tenants: readonly TenantServable[];
}

/** `servable-set.schema.json`, compiled at build time. */
const validateWire = generatedValidate as unknown as ValidateFunction;
/** The largest servable set a resolver reads, bytes. */
export const MAX_SERVABLE_SET_BYTES = 16 * 1024 * 1024;

/** The topic of a host's servable set. */
export function servableSetTopic(prefix: string, cluster: string, replica: string): string {
  return `${prefix}/inventory/${cluster}/${replica}`;
}

/** Encodes a servable set as JSON bytes. */
export function encodeServableSet(set: ServableSet): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(set));
}

/** Decodes an untrusted servable set; `{ error }` names what was wrong. */
export function decodeServableSet(bytes: Uint8Array): ServableSet | { error: string } {
  const decoded = decodeJson(bytes, { maxBytes: MAX_SERVABLE_SET_BYTES, maxDepth: 8 });
  if (!decoded.ok) return { error: `${decoded.error.kind}: ${decoded.error.message}` };
  if (!validateWire(decoded.value)) {
    const [first] = toViolations(validateWire.errors, decoded.value);
    return { error: first ? formatViolation(first) : 'not a servable set' };
  }
  return decoded.value as ServableSet;
}
