import * as grpc from '@grpc/grpc-js';
import { encodeMessage } from './load-definitions.ts';

/** One field-level problem, as google.rpc.BadRequest.FieldViolation carries it. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/**
 * An INVALID_ARGUMENT status whose trailers carry `grpc-status-details-bin`: a google.rpc.Status
 * with a google.rpc.BadRequest naming each bad field, which rich-error clients (buf curl, grpc-go
 * status.Details) decode. The message repeats the violations for plain clients.
 */
export function invalidArgument(violations: readonly FieldViolation[]): grpc.StatusObject {
  const details = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  const badRequest = encodeMessage('google.rpc.BadRequest', { field_violations: violations });
  const status = encodeMessage('google.rpc.Status', {
    code: grpc.status.INVALID_ARGUMENT,
    message: details,
    details: [{ type_url: 'type.googleapis.com/google.rpc.BadRequest', value: badRequest }],
  });
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', status);
  return { code: grpc.status.INVALID_ARGUMENT, details, metadata };
}

/** Maps an unexpected error to INTERNAL without leaking a stack trace to the caller. */
export function internalError(error: unknown): grpc.StatusObject {
  return {
    code: grpc.status.INTERNAL,
    details: `internal error: ${(error as Error)?.message ?? String(error)}`,
    metadata: new grpc.Metadata(),
  };
}
