/**
 * The request validation engine: is this ObjectiveConfig (and payload) valid for what this host
 * serves? A library first (`RequestValidator.validate`), with the gRPC service as a thin edge.
 * @module
 */
export { type ObjectiveConfig, REQUIRED_TEXT_FIELDS } from './objective-config.ts';
export { checkPayload, type Payload, PayloadSampler } from './payload.ts';
export { RequestValidator, type RequestValidatorOptions } from './request-validator.ts';
export { type TargetRole, targetRole } from './target-role.ts';
export {
  type Accepted,
  type PayloadOutcome,
  REASON_CODES,
  type ReasonCode,
  type Refused,
  refuse,
  type Verdict,
} from './verdict.ts';
