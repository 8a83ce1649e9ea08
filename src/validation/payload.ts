import type { ErrorObject } from 'ajv';
import { type DecodeLimits, decodeDocument } from '../codec/index.ts';
import type { CompiledPayloadSchema, PayloadValidationRule } from '../rules/index.ts';
import { type Refused, refuse } from './verdict.ts';

/** A request payload: raw bytes (JSON or MessagePack), or a value the caller already decoded. */
export type Payload =
  | { readonly bytes: Uint8Array; readonly contentType?: string }
  | { readonly value: unknown };

/**
 * Decides, per rule object, whether this request's payload is checked: `off`, `always`, or
 * every Nth request for `{sampleOneIn: N}` (a counter per objective or model rule, so the
 * choice is deterministic and spread evenly).
 */
export class PayloadSampler {
  private readonly counters = new WeakMap<object, number>();

  /** Whether to check this payload under `rule`, whose sampling counter is keyed by `owner`. */
  shouldCheck(rule: PayloadValidationRule, owner: object): boolean {
    if (rule === 'off') return false;
    if (rule === 'always') return true;
    const n = (this.counters.get(owner) ?? 0) + 1;
    this.counters.set(owner, n >= rule.sampleOneIn ? 0 : n);
    return n >= rule.sampleOneIn;
  }
}

/** Decodes (when given bytes) and validates a payload with the compiled schema; `null` when valid. */
export function checkPayload(
  payload: Payload,
  schema: CompiledPayloadSchema,
  limits: DecodeLimits,
): Refused | null {
  let value: unknown;
  if ('bytes' in payload) {
    const decoded = decodeDocument(payload.bytes, limits, payload.contentType);
    if (!decoded.ok) {
      const e = decoded.error;
      return {
        ...refuse(
          'PAYLOAD_UNDECODABLE',
          `payload cannot be decoded (${e.kind}): ${e.message}`,
          'payload',
        ),
        path: e.path,
      };
    }
    value = decoded.value;
  } else {
    value = payload.value;
  }
  if (schema.validate(value)) return null;
  const error = schema.validate.errors?.[0] as ErrorObject | undefined;
  const path = error?.instancePath ?? '';
  const keyword = error?.keyword ?? 'schema';
  const where = path === '' ? 'payload' : `payload at ${path}`;
  const message = `${where} ${error?.message ?? 'is invalid'} [${keyword}] (schema "${schema.id}")`;
  return { ...refuse('PAYLOAD_INVALID', message, 'payload'), path, keyword };
}
