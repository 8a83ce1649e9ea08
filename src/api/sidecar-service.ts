import * as grpc from '@grpc/grpc-js';
import { endpointLoadMetrics, toOrcaLoad } from '../orca/index.ts';
import { internalError, invalidArgument } from './grpc-errors.ts';
import type { StreamRegistry } from './health-service.ts';
import {
  type DeclaredModelMessage,
  type ObjectiveConfigMessage,
  type PayloadMessage,
  protoFieldName,
  type ReportLoadMessage,
  toConfigResponse,
  toLoad,
  toObjectiveConfig,
  toPayload,
  toReportMessage,
  toServedModels,
  toValidateResponse,
} from './proto-mapping.ts';
import type { SidecarBackend } from './sidecar-backend.ts';
import { latestOnlySender, type StreamCancelled, StreamFlow } from './stream-flow.ts';

interface ValidateRequest {
  config: ObjectiveConfigMessage | null;
  payload: PayloadMessage | null;
}

interface ValidateStreamRequest extends ValidateRequest {
  id: number;
  batch: ValidateRequest[];
}

/**
 * filament.v1.Sidecar: a thin edge over the validation engine and the config snapshot. Domain
 * refusals are ordinary responses (ok = false); a call without a config, or with a malformed one,
 * gets INVALID_ARGUMENT with google.rpc.BadRequest field violations. No handler lets an
 * exception escape.
 */
export function sidecarService(
  backend: SidecarBackend,
  streams: StreamRegistry,
  flow: { readonly stallMs: number; readonly onCancelled: StreamCancelled },
): grpc.UntypedServiceImplementation {
  const flowOf = (call: grpc.ServerWritableStream<unknown, unknown>, method: string) =>
    new StreamFlow(call, { method, ...flow });
  const latestOnly = (
    call: grpc.ServerWritableStream<unknown, unknown>,
    method: string,
    make: () => unknown,
  ) => latestOnlySender(call, flowOf(call, method), make);
  const judge = (request: ValidateRequest) => {
    if (request.config === null || request.config === undefined) {
      return {
        error: invalidArgument([
          { field: 'config', description: 'an ObjectiveConfig is required' },
        ]),
      };
    }
    const verdict = backend.validate(toObjectiveConfig(request.config), toPayload(request.payload));
    if (!verdict.ok && verdict.code === 'INVALID_ARGUMENT') {
      return {
        error: invalidArgument([
          {
            field: `config.${protoFieldName(verdict.field ?? '')}`.replace(/\.$/, ''),
            description: verdict.message,
          },
        ]),
        response: toValidateResponse(verdict),
      };
    }
    return { response: toValidateResponse(verdict) };
  };

  return {
    GetConfig(
      _call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      try {
        callback(null, toConfigResponse(backend.snapshot()));
      } catch (error) {
        callback(internalError(error));
      }
    },

    WatchConfig(call: grpc.ServerWritableStream<unknown, unknown>) {
      const send = latestOnly(call, 'WatchConfig', () => ({
        config: toConfigResponse(backend.snapshot()),
      }));
      send();
      const off = backend.onChange(send);
      call.once('cancelled', off);
      call.once('finish', off);
      streams.add(call);
    },

    Validate(
      call: grpc.ServerUnaryCall<ValidateRequest, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      try {
        const result = judge(call.request);
        if (result.error) callback(result.error);
        else callback(null, result.response);
      } catch (error) {
        callback(internalError(error));
      }
    },

    ValidateStream(call: grpc.ServerDuplexStream<ValidateStreamRequest, unknown>) {
      // In a stream a malformed item is answered, not fatal: the others keep flowing.
      const answer = (request: ValidateRequest) => {
        const result = judge(request);
        return (
          result.response ?? {
            ok: false,
            code: 'REASON_CODE_INVALID_ARGUMENT',
            message: result.error?.details ?? 'invalid request',
            field: 'config',
          }
        );
      };
      const f = flowOf(
        call as unknown as grpc.ServerWritableStream<unknown, unknown>,
        'ValidateStream',
      );
      call.on('data', (request: ValidateStreamRequest) => {
        try {
          if (request.batch.length > 0)
            f.write({ id: request.id, batch_results: request.batch.map(answer) });
          else f.write({ id: request.id, result: answer(request) });
        } catch (error) {
          call.destroy(error as Error);
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
      streams.add(call as unknown as grpc.ServerWritableStream<unknown, unknown>);
    },

    ReportLoad(
      call: grpc.ServerReadableStream<ReportLoadMessage, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      let accepted = 0;
      let refused: grpc.StatusObject | null = null;
      call.on('data', (message: ReportLoadMessage) => {
        if (refused !== null) return;
        const load = toLoad(message);
        if ('error' in load)
          refused = invalidArgument([
            {
              field: load.error.field,
              description: `${load.error.description} (message ${accepted + 1}; the ${accepted} before it were applied)`,
            },
          ]);
        else {
          backend.pushLoad(load);
          accepted++;
        }
      });
      // The messages before a bad one stay applied; the answer names the bad one.
      call.on('end', () => (refused === null ? callback(null, { accepted }) : callback(refused)));
      call.on('error', () => {});
    },

    GetSaturation(
      _call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const report = backend.saturation();
      if (report === null)
        callback({ code: grpc.status.UNAVAILABLE, details: 'no saturation report yet' });
      else {
        const load = toOrcaLoad(report);
        callback(null, {
          report: toReportMessage(report),
          endpoint_load_metrics: endpointLoadMetrics(load, 'TEXT'),
          endpoint_load_metrics_json: endpointLoadMetrics(load, 'JSON'),
        });
      }
    },

    DeclareModels(
      call: grpc.ServerUnaryCall<
        { models: DeclaredModelMessage[]; unloaded: string[]; changes_only: boolean },
        unknown
      >,
      callback: grpc.sendUnaryData<unknown>,
    ) {
      const { models, unloaded, changes_only } = call.request;
      const parsed = toServedModels(models);
      if ('error' in parsed) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: parsed.error });
        return;
      }
      const outcome = backend.declareModels(parsed.models, unloaded, changes_only);
      if (outcome.ok) callback(null, { models: outcome.models });
      else callback({ code: grpc.status.FAILED_PRECONDITION, details: outcome.message });
    },

    WatchSaturation(call: grpc.ServerWritableStream<unknown, unknown>) {
      let latest = backend.saturation();
      const send = latestOnly(call, 'WatchSaturation', () =>
        latest ? { report: toReportMessage(latest) } : undefined,
      );
      if (latest) send();
      const off = backend.onSaturation((report) => {
        latest = report;
        send();
      });
      call.once('cancelled', off);
      call.once('finish', off);
      streams.add(call);
    },
  };
}
