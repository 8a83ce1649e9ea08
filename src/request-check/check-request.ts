import { type DecodeLimits, decodeJson } from '../codec/index.ts';
import {
  OBJECTIVE_HEADER,
  readObjectiveFromBody,
  readObjectiveHeader,
} from '../request-carrier/index.ts';
import type { ObjectiveConfig, Payload, Verdict } from '../validation/index.ts';
import { answerCarrier, answerUnchecked, answerVerdict, type CheckAnswer } from './check-answer.ts';
import type { ObjectiveHeaderReader } from './header-memo.ts';

/**
 * What the check endpoint got: the request's headers (lower-case names) and its body, if any.
 * `Filament-Body: partial` says the proxy could not pass the whole body (it is then ignored).
 */
export interface CheckInput {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body the proxy passed (HAProxy Lua, Envoy with_request_body); absent for nginx. */
  readonly body?: Uint8Array;
  readonly contentType?: string;
}

/** How the endpoint judges. */
export interface CheckSettings {
  /** Refuse a request that carries no ObjectiveConfig (default); `false` lets it through, marked. */
  readonly require: boolean;
  /** The payload's top-level member that may carry it when no header does. */
  readonly bodyField: string;
  /** The status of an "elsewhere" refusal (421; 503 for proxies that retry only on that). */
  readonly elsewhereStatus: number;
  /** Caps for decoding a JSON body. */
  readonly payloadLimits: DecodeLimits;
}

/** The validation engine, as the endpoint calls it. */
export type Judge = (config: ObjectiveConfig, payload?: Payload) => Verdict;

/**
 * Judges one proxied request: its ObjectiveConfig from the Filament-Objective header, or — with
 * no header — from the JSON body's member (which is then left out of the payload the schema
 * sees), then the validation engine with the body as payload. A carrier that is present but
 * unreadable is refused, whatever `require` says: a malformed carrier is never allowed.
 * `readHeader` reads the header (a server passes one `memoizedHeaderReader()` for its life).
 * Pure but for what `judge` does.
 */
export function checkRequest(
  input: CheckInput,
  judge: Judge,
  settings: CheckSettings,
  readHeader: ObjectiveHeaderReader = readObjectiveHeader,
): CheckAnswer {
  // A proxy that could not pass the whole body says so: the ObjectiveConfig alone is judged.
  const body =
    input.headers['filament-body'] === 'partial' || input.body?.byteLength === 0
      ? undefined
      : input.body;
  const judged = (config: ObjectiveConfig, payload: Payload | undefined): CheckAnswer => ({
    ...answerVerdict(judge(config, payload), settings.elsewhereStatus),
    tenant: config.tenant,
    routingKey: config.routingKey,
  });
  const header = readHeader(input.headers[OBJECTIVE_HEADER]);
  if (header.ok) {
    const payload =
      body === undefined
        ? undefined
        : input.contentType !== undefined
          ? { bytes: body, contentType: input.contentType }
          : { bytes: body };
    return judged(header.value, payload);
  }
  if (header.error.code !== 'CARRIER_MISSING') return answerCarrier(header.error);
  if (body !== undefined && isJson(input.contentType)) {
    const decoded = decodeJson(body, settings.payloadLimits);
    if (decoded.ok) {
      const member = readObjectiveFromBody(decoded.value, settings.bodyField);
      if (member.ok) {
        const { [settings.bodyField]: _, ...rest } = decoded.value as Record<string, unknown>;
        return judged(member.value, { value: rest });
      }
      if (member.error.code !== 'CARRIER_MISSING') return answerCarrier(member.error);
    }
  }
  if (!settings.require)
    return answerUnchecked(
      `no ObjectiveConfig: neither a Filament-Objective header nor a "${settings.bodyField}" member (check.require = false)`,
    );
  return answerCarrier({
    code: 'CARRIER_MISSING',
    message: `the request carries no ObjectiveConfig: no Filament-Objective header${body !== undefined ? ` and no "${settings.bodyField}" member in its JSON body` : ''}`,
  });
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const base = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return base === 'application/json' || base.endsWith('+json');
}
