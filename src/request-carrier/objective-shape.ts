import type { ObjectiveConfig } from '../validation/index.ts';
import { type CarrierResult, carrierError } from './carrier-error.ts';

/** The members of the carried object, in the order the writer puts them. */
export const CARRIED_FIELDS = [
  'tenant',
  'objective',
  'model',
  'modelVersion',
  'ruleVersion',
  'schemaId',
  'routingKey',
  'cell',
] as const;

/** `config` as the carried object: its members in {@linkcode CARRIED_FIELDS} order. Pure. */
export function carriedObject(config: ObjectiveConfig): Record<string, unknown> {
  const ordered: Record<string, unknown> = {};
  for (const field of CARRIED_FIELDS)
    if (config[field] !== undefined) ordered[field] = config[field];
  return ordered;
}

const TEXT = ['tenant', 'objective', 'model', 'modelVersion', 'schemaId', 'routingKey'] as const;

/** The longest a text member may be (the rule set's own limits are 63, 128 and 128 characters). */
export const MAX_FIELD_LENGTH = 256;

/**
 * `value` as an ObjectiveConfig if it is exactly one: an object with the text members non-empty
 * strings of at most {@linkcode MAX_FIELD_LENGTH} characters, `ruleVersion` a positive safe
 * integer, `cell` absent or a non-empty string, and no other member. `where` names the carrier in
 * the message (`the Filament-Objective header`, `the body's "filament" member`). Pure.
 */
export function objectiveFrom(value: unknown, where: string): CarrierResult<ObjectiveConfig> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return carrierError('CARRIER_MALFORMED', `${where} must hold a JSON object`);
  const object = value as Record<string, unknown>;
  const extra = Object.keys(object).find((k) => !(CARRIED_FIELDS as readonly string[]).includes(k));
  if (extra !== undefined)
    return carrierError('CARRIER_MALFORMED', `${where} has an unknown member "${extra}"`);
  for (const field of TEXT) {
    const text = object[field];
    if (typeof text !== 'string' || text === '')
      return carrierError('CARRIER_MALFORMED', `${where} lacks "${field}" (a non-empty string)`);
    if (text.length > MAX_FIELD_LENGTH)
      return carrierError(
        'CARRIER_MALFORMED',
        `${where}: "${field}" is ${text.length} characters; at most ${MAX_FIELD_LENGTH}`,
      );
  }
  const version = object.ruleVersion;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    return carrierError('CARRIER_MALFORMED', `${where} lacks "ruleVersion" (a positive integer)`);
  const cell = object.cell;
  if (
    cell !== undefined &&
    (typeof cell !== 'string' || cell === '' || cell.length > MAX_FIELD_LENGTH)
  )
    return carrierError('CARRIER_MALFORMED', `${where}: "cell", when given, is a non-empty string`);
  return { ok: true, value: object as unknown as ObjectiveConfig };
}
