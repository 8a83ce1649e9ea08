import { chmod, unlink } from 'node:fs/promises';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { type Logger, silentLogger } from '../log/index.ts';
import {
  type CheckAnswer,
  type CheckSettings,
  checkRequest,
  type Judge,
  memoizedHeaderReader,
} from '../request-check/index.ts';
import { Reclaimer } from '../runtime/index.ts';
import { authorizationService } from './authorization-service.ts';
import { DescriptorIndex } from './descriptor-index.ts';
import { GuardedListener, type ListenerLimits } from './guarded-listener.ts';
import { healthService } from './health-service.ts';
import type { HealthState } from './health-state.ts';
import { serviceDefinition } from './load-definitions.ts';
import { orcaService } from './orca-service.ts';
import { reflectionService } from './reflection-service.ts';
import type { SidecarBackend } from './sidecar-backend.ts';
import { sidecarService } from './sidecar-service.ts';
import type { StreamCancelled } from './stream-flow.ts';
import { ApiBindError, prepareSocketPath, tcpAddress } from './unix-socket.ts';

/**
 * A grpc-js connection injector and, reached through grpc-js internals, the HTTP/2 server behind
 * it (`null` if a grpc-js version hides it: the handshake deadline is then off, the cap stays).
 */
function createInjector(server: grpc.Server): {
  injector: ReturnType<grpc.Server['createConnectionInjector']>;
  http2: { on(event: 'session', listener: (session: never) => void): void } | null;
} {
  const servers = (server as unknown as { http2Servers?: Map<unknown, unknown> }).http2Servers;
  const before = new Set(servers?.keys() ?? []);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const added = [...(servers?.keys() ?? [])].find((key) => !before.has(key)) as
    | { on?: unknown }
    | undefined;
  return {
    injector,
    http2: typeof added?.on === 'function' ? (added as never) : null,
  };
}

/** Options for {@linkcode ApiServer}. */
export interface ApiServerOptions {
  /** Unix socket path; `null` for none. */
  readonly socketPath: string | null;
  /** `host:port` on loopback, port 0 for any free one; `null` for none. */
  readonly tcpListen: string | null;
  readonly backend: SidecarBackend;
  readonly health: HealthState;
  readonly logger?: Logger;
  /**
   * The largest request accepted, bytes. Default 64 MiB. The sidecar sets it from
   * `validation.max_payload_bytes` plus room for the rest of the request, so a payload the
   * validator would accept is never cut off by gRPC first (and a larger one is refused by it).
   */
  readonly maxMessageBytes?: number;
  /**
   * How long a streaming client may leave responses unread before its stream is reset
   * (RESOURCE_EXHAUSTED), ms. Default 10,000.
   */
  readonly streamStallMs?: number;
  /** Told when a stream is cancelled that way (for metrics). */
  readonly onStreamCancelled?: StreamCancelled;
  /**
   * Per listener: connections open at once (default 256), and how long a connection may take to
   * send the HTTP/2 preface (default 5,000 ms). Connections with no call for `idleMs` (default
   * 300,000) are closed by the gRPC server (GOAWAY); clients reconnect on their next call.
   */
  readonly limits?: Partial<ListenerLimits> & { readonly idleMs?: number };
  /** Told of every connection refused or dropped by those limits (for metrics). */
  readonly onConnectionRefused?: (listener: string, reason: string) => void;
  /**
   * Serve Envoy's ext_authz (`envoy.service.auth.v3.Authorization/Check`) with the request-path
   * check judged as `settings` say (the `[check]` config); absent: not served.
   */
  readonly check?: {
    readonly settings: CheckSettings;
    readonly onAnswer?: (answer: CheckAnswer) => void;
  };
  /**
   * `full` (default): every service, for the local API. `load-reports`: only ORCA's
   * OpenRcaService, read-only, for a port load balancers on other machines reach.
   */
  readonly surface?: 'full' | 'load-reports';
}

/**
 * The local gRPC server: grpc.health.v1.Health, server reflection (v1 and v1alpha),
 * filament.v1.Sidecar and ORCA's OpenRcaService, on a unix socket (mode 0660) and optionally
 * loopback TCP — or, with `surface: 'load-reports'`, OpenRcaService alone on any address.
 */
export class ApiServer {
  private readonly server: grpc.Server;
  private readonly streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  private readonly listeners: GuardedListener[] = [];
  private readonly log: Logger;
  /** Connection churn asks for a full collection (each connection's native memory waits for one). */
  private readonly reclaimer = new Reclaimer({
    threshold: 128,
    minIntervalMs: 2_000,
    onCollected: (ms) =>
      this.log.debug('collected garbage after API connection churn', { ms: Math.round(ms) }),
  });
  private boundTcpPort: number | null = null;
  private started = false;
  private socketBound = false;
  private stopped: Promise<void> | null = null;

  constructor(private readonly options: ApiServerOptions) {
    this.log = options.logger ?? silentLogger;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxMessageBytes ?? 64 * 1024 * 1024,
      'grpc.max_connection_idle_ms': options.limits?.idleMs ?? 300_000,
    });
    const registry = {
      add: (call: grpc.ServerWritableStream<unknown, unknown>) => this.track(call),
    };
    this.server.addService(
      serviceDefinition('xds.service.orca.v3.OpenRcaService'),
      orcaService(options.backend, registry, {
        stallMs: options.streamStallMs ?? 10_000,
        onCancelled: (method, reason) => options.onStreamCancelled?.(method, reason),
      }),
    );
    // Reflection on every surface, listing what that surface serves: `buf curl` and grpcurl need
    // no --schema for the load-reports port either.
    const loadReportsOnly = options.surface === 'load-reports';
    const reflection = reflectionService(
      () =>
        new DescriptorIndex(
          undefined,
          loadReportsOnly
            ? (name) =>
                name === 'xds.service.orca.v3.OpenRcaService' || name.includes('.reflection.')
            : undefined,
        ),
    );
    this.server.addService(serviceDefinition('grpc.reflection.v1.ServerReflection'), reflection);
    this.server.addService(
      serviceDefinition('grpc.reflection.v1alpha.ServerReflection'),
      reflection,
    );
    if (loadReportsOnly) return;
    const check = options.check;
    if (check !== undefined) {
      const judge: Judge = (config, payload) => options.backend.validate(config, payload);
      const readHeader = memoizedHeaderReader();
      this.server.addService(
        serviceDefinition('envoy.service.auth.v3.Authorization'),
        authorizationService((input) => {
          const answer = checkRequest(input, judge, check.settings, readHeader);
          check.onAnswer?.(answer);
          return answer;
        }),
      );
    }
    this.server.addService(
      serviceDefinition('grpc.health.v1.Health'),
      healthService(options.health, registry),
    );
    this.server.addService(
      serviceDefinition('filament.v1.Sidecar'),
      sidecarService(options.backend, registry, {
        stallMs: options.streamStallMs ?? 10_000,
        onCancelled: (method, reason) => {
          this.log.warn('stream cancelled: the client stopped reading its responses', {
            method,
            reason,
            afterMs: options.streamStallMs ?? 10_000,
          });
          options.onStreamCancelled?.(method, reason);
        },
      }),
    );
  }

  /** The TCP port actually bound (useful with port 0), or `null`. */
  get tcpPort(): number | null {
    return this.boundTcpPort;
  }

  /** Binds every configured listener. @throws {ApiBindError} naming the address and the cause. */
  async start(): Promise<void> {
    const { socketPath, tcpListen } = this.options;
    if (socketPath !== null) {
      await prepareSocketPath(socketPath);
      await this.bind({ path: socketPath }, `unix:${socketPath}`);
      this.socketBound = true;
      await chmod(socketPath, 0o660);
      this.log.info('gRPC API listening', { socket: socketPath });
    }
    if (tcpListen !== null) {
      this.boundTcpPort = await this.bind(tcpAddress(tcpListen, 'api.listen'), tcpListen);
      const what = this.options.surface === 'load-reports' ? 'ORCA load reports' : 'gRPC API';
      this.log.info(`${what} listening`, {
        tcp: tcpListen.replace(/:\d+$/, `:${this.boundTcpPort}`),
      });
    }
    this.started = true;
  }

  /**
   * Ends open streams (health watchers first see NOT_SERVING), lets in-flight calls finish for up
   * to `deadlineMs`, then forces the rest closed, and removes the socket file. Idempotent.
   */
  stop(deadlineMs = 5000): Promise<void> {
    this.stopped ??= (async () => {
      const listeners = this.listeners.splice(0);
      // Stop accepting now; the server's close completes once the last connection is gone.
      const closed = listeners.map((l) => l.close());
      for (const call of this.streams) if (!call.writableEnded) call.end();
      this.streams.clear();
      if (this.started || this.socketBound) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.server.forceShutdown();
            resolve();
          }, deadlineMs);
          this.server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      } else {
        this.server.forceShutdown();
      }
      for (const l of listeners) l.destroyConnections();
      await Promise.all(closed);
      this.reclaimer.stop();
      // Only a socket this server bound is ours to remove; another instance's stays.
      if (this.options.socketPath !== null && this.socketBound)
        await unlink(this.options.socketPath).catch(() => {});
    })();
    return this.stopped;
  }

  private track(call: grpc.ServerWritableStream<unknown, unknown>): void {
    this.streams.add(call);
    const forget = () => this.streams.delete(call);
    call.once('finish', forget);
    call.once('cancelled', forget);
  }

  /**
   * Listens through a {@linkcode GuardedListener} whose connections are injected into the gRPC
   * server, so their number and handshake are bounded before grpc-js sees them.
   */
  private async bind(
    where: { path: string } | { host: string; port: number },
    label: string,
  ): Promise<number> {
    const { injector, http2 } = createInjector(this.server);
    const limits = this.options.limits;
    let lastLog = 0;
    // grpc-js's HTTP/2 server starts a session synchronously for each injected connection; the
    // client's SETTINGS arriving on it (remoteSettings) is the end of the handshake.
    let accepting: Socket | null = null;
    http2?.on('session', (session: { once(event: string, listener: () => void): void }) => {
      const socket = accepting;
      if (socket) session.once('remoteSettings', () => listener.handshaken(socket));
    });
    const listener = new GuardedListener({
      label,
      maxConnections: limits?.maxConnections ?? 256,
      handshakeMs: http2 ? (limits?.handshakeMs ?? 5_000) : 0,
      onClosed: () => this.reclaimer.release(),
      accept: (socket) => {
        accepting = socket;
        try {
          injector.injectConnection(socket);
        } finally {
          accepting = null;
        }
      },
      onRefused: (reason) => {
        this.options.onConnectionRefused?.(label, reason);
        // At most one line a minute per listener: a flood must not flood the log too.
        if (Date.now() - lastLog < 60_000) return;
        lastLog = Date.now();
        this.log.warn('API connection refused', {
          listener: label,
          reason,
          open: listener.connections,
          maxConnections: limits?.maxConnections ?? 256,
        });
      },
    });
    try {
      const port = await listener.listen(where);
      this.listeners.push(listener);
      return port;
    } catch (error) {
      throw new ApiBindError(`cannot listen on ${label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
