import type { ObjectiveConfig } from '../validation/index.ts';
import { type CarrierResult, carrierError } from './carrier-error.ts';
import { carriedObject, objectiveFrom } from './objective-shape.ts';

/** The top-level member of a JSON payload that carries the ObjectiveConfig, unless configured. */
export const DEFAULT_BODY_FIELD = 'filament';

/** `config` as the body member holds it: the carried object, members in the writer's order. Pure. */
export function objectiveBodyMember(config: ObjectiveConfig): Record<string, unknown> {
  return carriedObject(config);
}

/**
 * The ObjectiveConfig in a decoded JSON payload's top-level member `field`, or why not: a payload
 * that is no JSON object, or whose member is absent or not exactly the carried object. Pure.
 */
export function readObjectiveFromBody(
  payload: unknown,
  field: string = DEFAULT_BODY_FIELD,
): CarrierResult<ObjectiveConfig> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    return carrierError(
      'CARRIER_MISSING',
      'the payload is not a JSON object, so it carries no ObjectiveConfig',
    );
  if (!Object.hasOwn(payload, field))
    return carrierError('CARRIER_MISSING', `the payload has no "${field}" member`);
  return objectiveFrom(
    (payload as Record<string, unknown>)[field],
    `the payload's "${field}" member`,
  );
}
