import type { CarrierError } from '../request-carrier/index.ts';
import type { ReasonCode, Verdict } from '../validation/index.ts';

/**
 * What a refusal tells the proxy to do: `elsewhere`, this host cannot serve the request and
 * another may (retry there); `refused`, the request itself is wrong (do not retry).
 */
export type RefusalKind = 'elsewhere' | 'refused';

/** Every reason code, classified (the compiler holds this table to REASON_CODES). */
export const REFUSAL_KIND: Readonly<Record<ReasonCode, { kind: RefusalKind; status: number }>> = {
  // What this host has, or has not, loaded or applied: another host may serve it.
  MODEL_NOT_LOADED: { kind: 'elsewhere', status: 421 },
  MODEL_NOT_READY: { kind: 'elsewhere', status: 421 },
  ADAPTER_NOT_LOADED: { kind: 'elsewhere', status: 421 },
  ADAPTER_BASE_MISMATCH: { kind: 'elsewhere', status: 421 },
  ADAPTER_NOT_OURS: { kind: 'elsewhere', status: 421 },
  ROUTING_KEY_NOT_SERVED: { kind: 'elsewhere', status: 421 },
  HOST_BEHIND: { kind: 'elsewhere', status: 421 },
  INVENTORY_UNCONFIRMED: { kind: 'elsewhere', status: 421 },
  UNKNOWN_TENANT: { kind: 'elsewhere', status: 421 },
  RULE_VERSION_UNKNOWN: { kind: 'elsewhere', status: 421 },
  // Also the server holding the model at another revision than the rules name.
  MODEL_VERSION_MISMATCH: { kind: 'elsewhere', status: 421 },
  // The request (its ObjectiveConfig or payload) is wrong wherever it goes.
  INVALID_ARGUMENT: { kind: 'refused', status: 400 },
  PAYLOAD_UNDECODABLE: { kind: 'refused', status: 400 },
  RULE_VERSION_TOO_OLD: { kind: 'refused', status: 409 },
  UNKNOWN_OBJECTIVE: { kind: 'refused', status: 409 },
  UNKNOWN_MODEL: { kind: 'refused', status: 409 },
  NOT_A_TARGET: { kind: 'refused', status: 409 },
  UNKNOWN_CELL: { kind: 'refused', status: 409 },
  ROUTING_KEY_MISMATCH: { kind: 'refused', status: 409 },
  SCHEMA_MISMATCH: { kind: 'refused', status: 409 },
  PAYLOAD_INVALID: { kind: 'refused', status: 422 },
};

/** The verdict as the proxy sees it: `Filament-Verdict`. */
export type CheckVerdict = 'allow' | 'unchecked' | RefusalKind | 'malformed';

/** The answer of the HTTP check endpoint: a status, headers the proxy may copy, a JSON body. */
export interface CheckAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The tenant the request named, when its carrier was read (for counting; not sent). */
  readonly tenant?: string;
  /** The routing key it named, likewise. */
  readonly routingKey?: string;
}

/** Headers of every answer, as the proxy reads them (lower case). */
export const CHECK_HEADERS = {
  verdict: 'filament-verdict',
  reason: 'filament-reason',
  ruleVersion: 'filament-rule-version',
  /** The sentence, JSON-escaped to ASCII (no quotes around it): nginx can put it in a JSON body. */
  message: 'filament-message',
} as const;

/** The longest `Filament-Message` sent, characters (the body has the whole sentence). */
const MAX_MESSAGE_HEADER = 512;

/** `text` as the inside of a JSON string, ASCII only, shortened to fit a header. */
function headerText(text: string): string {
  const jsonInside = (t: string) =>
    JSON.stringify(t)
      .slice(1, -1)
      .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  let escaped = jsonInside(text);
  // Shorten the sentence itself (never an escape in half) until it fits.
  for (let n = text.length; escaped.length > MAX_MESSAGE_HEADER; ) {
    n -= Math.max(1, Math.ceil((escaped.length - MAX_MESSAGE_HEADER) / 6));
    escaped = `${jsonInside(text.slice(0, n))}...`;
  }
  return escaped;
}

/**
 * The answer to a request whose carrier was read and judged: 200 with its rule version on
 * allow; otherwise the status its reason calls for (421 "elsewhere", 4xx "refused"), the code in
 * `Filament-Reason` and the sentence in the body. `elsewhereStatus` replaces 421 for proxies that
 * only retry on other codes (HAProxy and nginx retry on 503, not 421). Pure.
 */
export function answerVerdict(verdict: Verdict, elsewhereStatus = 421): CheckAnswer {
  if (verdict.ok)
    return json(
      200,
      {
        [CHECK_HEADERS.verdict]: 'allow',
        [CHECK_HEADERS.ruleVersion]: String(verdict.ruleVersion),
      },
      { verdict: 'allow', ruleVersion: verdict.ruleVersion, payload: verdict.payload },
    );
  const { kind, status } = REFUSAL_KIND[verdict.code];
  return json(
    kind === 'elsewhere' ? elsewhereStatus : status,
    {
      [CHECK_HEADERS.verdict]: kind,
      [CHECK_HEADERS.reason]: verdict.code,
      [CHECK_HEADERS.message]: headerText(verdict.message),
    },
    {
      verdict: kind,
      code: verdict.code,
      message: verdict.message,
      ...(verdict.field !== undefined ? { field: verdict.field } : {}),
      ...(verdict.path !== undefined ? { path: verdict.path } : {}),
    },
  );
}

/** The answer to a request whose carrier could not be read: 400, the carrier's code and why. Pure. */
export function answerCarrier(error: CarrierError): CheckAnswer {
  return json(
    400,
    {
      [CHECK_HEADERS.verdict]: 'malformed',
      [CHECK_HEADERS.reason]: error.code,
      [CHECK_HEADERS.message]: headerText(error.message),
    },
    { verdict: 'malformed', code: error.code, message: error.message },
  );
}

/** The answer when no carrier came and the operator allows that (`require = false`). Pure. */
export function answerUnchecked(why: string): CheckAnswer {
  return json(
    200,
    { [CHECK_HEADERS.verdict]: 'unchecked' },
    { verdict: 'unchecked', message: why },
  );
}

function json(status: number, headers: Record<string, string>, body: object): CheckAnswer {
  return {
    status,
    headers: { ...headers, 'content-type': 'application/json' },
    body: `${JSON.stringify(body)}\n`,
  };
}
