/**
 * The ObjectiveConfig carried on an HTTP request — the contract a resolver writes and a host's
 * check reads (docs/wire-contracts.md#the-objectiveconfig-on-a-request): the `Filament-Objective`
 * header, and a JSON payload's top-level member. Pure.
 * @module
 */
export type { CarrierError, CarrierProblem, CarrierResult } from './carrier-error.ts';
export {
  DEFAULT_BODY_FIELD,
  objectiveBodyMember,
  readObjectiveFromBody,
} from './objective-body.ts';
export {
  MAX_HEADER_BYTES,
  OBJECTIVE_HEADER,
  readObjectiveHeader,
  writeObjectiveHeader,
} from './objective-header.ts';
export { CARRIED_FIELDS, MAX_FIELD_LENGTH } from './objective-shape.ts';
