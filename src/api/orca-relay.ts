import * as grpc from '@grpc/grpc-js';

const STREAM_CORE_METRICS = '/xds.service.orca.v3.OpenRcaService/StreamCoreMetrics';
const bytes = (b: Buffer) => b;

/**
 * `xds.service.orca.v3.OpenRcaService` as raw bytes, for {@linkcode orcaRelay}: requests and
 * reports pass through unparsed.
 */
export const ORCA_RELAY_SERVICE: grpc.ServiceDefinition = {
  StreamCoreMetrics: {
    path: STREAM_CORE_METRICS,
    requestStream: false,
    responseStream: true,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};

/** What {@linkcode orcaRelay} returns: add `service` and `implementation` to a grpc-js server. */
export interface OrcaRelay {
  readonly service: grpc.ServiceDefinition;
  readonly implementation: grpc.UntypedServiceImplementation;
  /** Closes the channel to the sidecar (streams still open end UNAVAILABLE). */
  close(): void;
}

/**
 * For a model server (or the gRPC proxy in front of it) written with grpc-js: serves
 * `OpenRcaService/StreamCoreMetrics` on the model server's own port by relaying each call to the
 * filament sidecar at `sidecarTarget` (`unix:/run/filament/filament.sock`). gRPC's
 * `weighted_round_robin` with `enable_oob_load_report` asks a backend for its load over the very
 * connection it sends calls on, so the backend must answer; this way the answer is filament's.
 *
 * Bytes pass through unparsed, the requested interval included; a client that stops reading
 * stops the relay reading (the sidecar then keeps only the newest report for it); a sidecar that
 * cannot be reached ends the call UNAVAILABLE with the reason, and the client's ORCA stream
 * retries. Cancelling either side cancels the other.
 *
 * ```ts
 * const relay = orcaRelay('unix:/run/filament/filament.sock');
 * server.addService(relay.service, relay.implementation);
 * ```
 */
export function orcaRelay(
  sidecarTarget: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): OrcaRelay {
  const client = new grpc.Client(sidecarTarget, credentials);
  const implementation: grpc.UntypedServiceImplementation = {
    StreamCoreMetrics(call: grpc.ServerWritableStream<Buffer, Buffer>) {
      const upstream = client.makeServerStreamRequest(
        STREAM_CORE_METRICS,
        bytes,
        bytes,
        call.request,
        new grpc.Metadata(),
      );
      let done = false;
      upstream.on('data', (report: Buffer) => {
        if (done || call.write(report)) return;
        upstream.pause();
        call.once('drain', () => upstream.resume());
      });
      upstream.on('error', (error: grpc.ServiceError) => {
        if (done) return;
        done = true;
        // grpc-js sends an error emitted on a server stream as the call's status, and ends it.
        const details = `filament sidecar ${sidecarTarget}: ${error.details}`;
        call.emit('error', { code: error.code, details, message: details });
      });
      upstream.on('end', () => {
        if (done) return;
        done = true;
        call.end();
      });
      const cancel = () => {
        done = true;
        upstream.cancel();
      };
      call.once('cancelled', cancel);
      call.on('error', cancel);
    },
  };
  return { service: ORCA_RELAY_SERVICE, implementation, close: () => client.close() };
}
