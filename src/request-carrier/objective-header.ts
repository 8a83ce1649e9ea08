import { Buffer } from 'node:buffer';
import { decodeJson } from '../codec/index.ts';
import type { ObjectiveConfig } from '../validation/index.ts';
import { type CarrierResult, carrierError } from './carrier-error.ts';
import { carriedObject, objectiveFrom } from './objective-shape.ts';

/** The request header that carries a request's ObjectiveConfig (HTTP field names are case-blind). */
export const OBJECTIVE_HEADER = 'filament-objective';

/** The longest header value read, bytes: well under nginx's and HAProxy's default line limits. */
export const MAX_HEADER_BYTES = 4096;

const WHERE = 'the Filament-Objective header';
const TOKEN = /^v1\.[A-Za-z0-9_-]+$/;

/**
 * The Filament-Objective header value for `config`: `v1.` and the base64url (no padding) of its
 * JSON, members in a fixed order. One token of letters, digits, `-`, `_` and one `.`: no proxy
 * needs to quote, fold or escape it, and any value (quotes, commas, any Unicode, long strings)
 * survives. Pure.
 */
export function writeObjectiveHeader(config: ObjectiveConfig): string {
  return `v1.${Buffer.from(JSON.stringify(carriedObject(config)), 'utf8').toString('base64url')}`;
}

/**
 * Reads a Filament-Objective header as a server got it: `undefined` (absent), one value, or
 * several (the header sent more than once). Refuses, with a sentence naming what was wrong, an
 * absent, repeated (also when a proxy joined the copies with commas), oversized or malformed
 * value, and anything but exactly the carried object (docs/wire-contracts.md). Never throws. Pure.
 */
export function readObjectiveHeader(
  value: string | readonly string[] | undefined,
): CarrierResult<ObjectiveConfig> {
  if (value === undefined || (Array.isArray(value) && value.length === 0))
    return carrierError('CARRIER_MISSING', 'the request has no Filament-Objective header');
  if (Array.isArray(value) && value.length > 1)
    return carrierError(
      'CARRIER_DUPLICATED',
      `the Filament-Objective header is sent ${value.length} times; send it once`,
    );
  const text = (Array.isArray(value) ? value[0] : value).trim();
  if (Buffer.byteLength(text) > MAX_HEADER_BYTES)
    return carrierError(
      'CARRIER_TOO_LARGE',
      `${WHERE} is ${Buffer.byteLength(text)} bytes; at most ${MAX_HEADER_BYTES}`,
    );
  if (text === '') return carrierError('CARRIER_MISSING', `${WHERE} is empty`);
  if (text.includes(','))
    return carrierError(
      'CARRIER_DUPLICATED',
      `${WHERE} holds several values joined by commas: send it once`,
    );
  if (!TOKEN.test(text)) {
    const version = /^v(\d+)\./.exec(text)?.[1];
    return carrierError(
      'CARRIER_MALFORMED',
      version !== undefined && version !== '1'
        ? `${WHERE} is version ${version} of the contract; this host reads version 1`
        : `${WHERE} must be "v1." and base64url (letters, digits, "-", "_"), got ${preview(text)}`,
    );
  }
  const encoded = text.slice(3);
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.toString('base64url') !== encoded)
    return carrierError('CARRIER_MALFORMED', `${WHERE} is not canonical base64url`);
  const decoded = decodeJson(bytes, { maxBytes: MAX_HEADER_BYTES, maxDepth: 2 });
  if (!decoded.ok)
    return carrierError(
      'CARRIER_MALFORMED',
      `${WHERE} does not hold JSON: ${decoded.error.message}${decoded.error.path ? ` at ${decoded.error.path}` : ''}`,
    );
  const twice = repeatedMember(bytes.toString('utf8'));
  if (twice !== undefined)
    return carrierError('CARRIER_MALFORMED', `${WHERE} names the member "${twice}" twice`);
  return objectiveFrom(decoded.value, WHERE);
}

const STRING_TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?/g;

/**
 * The first member name that appears twice in the JSON text of a flat object (JSON.parse would
 * silently keep the last), or `undefined`. The text is valid JSON: scanning string tokens left to
 * right never starts inside one, and a string followed by `:` is a member name.
 */
function repeatedMember(json: string): string | undefined {
  const seen = new Set<string>();
  for (const match of json.matchAll(STRING_TOKEN)) {
    if (match[2] === undefined) continue;
    const name = JSON.parse(match[1] as string) as string;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
