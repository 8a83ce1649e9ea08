import * as grpc from '@grpc/grpc-js';
import type { HealthState } from './health-state.ts';

interface HealthRequest {
  service: string;
}

/** Open streams a server must end before it can shut down. */
export interface StreamRegistry {
  add(call: grpc.ServerWritableStream<unknown, unknown>): void;
}

/**
 * grpc.health.v1.Health as the gRPC health-checking protocol specifies: Check answers NOT_FOUND
 * for an unknown service; Watch sends the current status at once (SERVICE_UNKNOWN for an
 * unknown service, keeping the stream open) and then every change.
 */
export function healthService(
  state: HealthState,
  streams: StreamRegistry,
): grpc.UntypedServiceImplementation {
  return {
    Check(
      call: grpc.ServerUnaryCall<HealthRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const service = call.request.service ?? '';
      const status = state.status(service);
      if (status === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${service}"` });
        return;
      }
      callback(null, { status });
    },
    Watch(call: grpc.ServerWritableStream<HealthRequest, unknown>) {
      const service = call.request.service ?? '';
      let last: string | undefined;
      const send = () => {
        const status = state.status(service) ?? 'SERVICE_UNKNOWN';
        if (status === last || call.cancelled || call.writableEnded) return;
        last = status;
        call.write({ status });
      };
      send();
      const off = state.onChange(send);
      call.once('cancelled', off);
      call.once('finish', off);
      streams.add(call as grpc.ServerWritableStream<unknown, unknown>);
    },
  };
}
