import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from './load-definitions.ts';

/** filament.v1.GetConfigResponse as our clients receive it (snake_case, defaults filled). */
export interface ConfigMessage {
  identity: { replica: string; cluster: string; filament_version: string };
  broker: { state: string; url: string; reconnects: number; since_unix_ms: number };
  tenants: Array<{
    tenant: string;
    active_version: number;
    kept_versions: number[];
    high_water_version: number;
    applied_unix_ms: number;
    last_ack: {
      received_version: number;
      status: string;
      active_version: number;
      code: string;
      reason: string;
      persisted: boolean;
      at: string;
    } | null;
    signed_by: string[];
    serving: {
      objectives: number;
      unservable_objectives: number;
      unservable: Array<{ routing_key: string; model: string; code: string; reason: string }>;
      summary: string;
    } | null;
  }>;
  models: Array<{ id: string; version: string; ready: boolean }>;
  stopping: boolean;
  signatures: { trusted_key_ids: string[]; threshold: number };
  inventory: {
    source: string;
    endpoint: string;
    confirmed: boolean;
    unconfirmed_reason: string;
    last_answer_unix_ms: number;
  } | null;
  drift: Array<{ model: string; version: string; problem: string; detail: string }>;
  /** What the request-path check answered since start (maps arrive as key/value entries). */
  checks: {
    answered: number;
    by_verdict: Array<{ key: string; value: number }>;
    by_reason: Array<{ key: string; value: number }>;
  } | null;
}

/** The part of filament.v1.SaturationReport `filament status` shows. */
export interface SaturationMessage {
  replica: string;
  state: string;
  score: number;
}

/** A small promise-based client of a running sidecar's API, for `filament status` and scripts. */
export class SidecarClient {
  private readonly health: grpc.Client;
  private readonly sidecar: grpc.Client;

  /** @param target `unix:/path/to.sock` or `127.0.0.1:port`. */
  constructor(target: string) {
    const credentials = grpc.credentials.createInsecure();
    this.health = new (clientConstructor('grpc.health.v1.Health'))(target, credentials);
    this.sidecar = new (clientConstructor('filament.v1.Sidecar'))(target, credentials);
  }

  /** The health of `service` (`""`: the sidecar as a whole). */
  async checkHealth(service = ''): Promise<string> {
    const response = await this.unary<{ status: string }>(this.health, 'Check', { service });
    return response.status;
  }

  getConfig(): Promise<ConfigMessage> {
    return this.unary<ConfigMessage>(this.sidecar, 'GetConfig', {});
  }

  /** This replica's current saturation report (state and score), or `null` before the first. */
  async getSaturation(): Promise<SaturationMessage | null> {
    const response = await this.unary<{ report: SaturationMessage | null }>(
      this.sidecar,
      'GetSaturation',
      {},
    );
    return response.report ?? null;
  }

  close(): void {
    this.health.close();
    this.sidecar.close();
  }

  private unary<T>(
    client: grpc.Client,
    method: string,
    request: object,
    timeoutMs = 5000,
  ): Promise<T> {
    const call = (
      client as unknown as Record<
        string,
        (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: T) => void) => void
      >
    )[method];
    return new Promise((resolve, reject) => {
      if (!call) return reject(new Error(`no method ${method}`));
      call.call(client, request, { deadline: Date.now() + timeoutMs }, (error, value) =>
        error ? reject(error) : resolve(value),
      );
    });
  }
}
