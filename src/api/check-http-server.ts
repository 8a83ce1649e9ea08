import { chmod, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/index.ts';
import {
  answerCarrier,
  type CheckAnswer,
  type CheckSettings,
  checkRequest,
  type Judge,
  memoizedHeaderReader,
} from '../request-check/index.ts';
import { ApiBindError, prepareSocketPath, tcpAddress } from './unix-socket.ts';

/** Options of {@linkcode CheckHttpServer}. */
export interface CheckHttpServerOptions extends CheckSettings {
  /** The unix socket to listen on (beside the gRPC one), or `null`. */
  readonly socketPath: string | null;
  /** Loopback `host:port` to listen on too, or `null`. */
  readonly tcpListen: string | null;
  /** The largest request body read, bytes; a larger one is refused (413) without being buffered. */
  readonly maxBodyBytes: number;
  /** Connections open at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /** A request's headers must arrive within this long, ms (slow clients are cut off). */
  readonly headersTimeoutMs: number;
  readonly judge: Judge;
  readonly logger: Logger;
  /** Told of every answer (for metrics). */
  readonly onAnswer?: (answer: CheckAnswer) => void;
  /** Told of every connection refused or cut off by the limits, with why (for metrics). */
  readonly onConnectionRefused?: (reason: 'too_many_connections' | 'header_timeout') => void;
}

/**
 * The HTTP check endpoint: every request to it, whatever its method and path (Envoy ext_authz and
 * Traefik forward the original ones), is a check of the request it stands for. nginx
 * `auth_request` sends headers only; HAProxy and Envoy may send the body, read up to
 * `maxBodyBytes`. Never throws out of a request: a fault answers 500 and is logged.
 */
export class CheckHttpServer {
  private readonly servers: Server[] = [];
  private boundPort: number | null = null;
  /** Whether this server bound the socket file (only then is it removed on stop). */
  private socketBound = false;
  /** Per connection, the timer that cuts it off unless a request's headers arrive in time. */
  private readonly deadlines = new WeakMap<Socket, Deadline>();
  /** Causes of refused connections already logged (each is logged once; all are counted). */
  private readonly logged = new Set<string>();
  /** Decodes each distinct Filament-Objective header once. */
  private readonly readHeader = memoizedHeaderReader();

  constructor(private readonly options: CheckHttpServerOptions) {}

  /** The TCP port bound (useful with port 0), or `null`. */
  get tcpPort(): number | null {
    return this.boundPort;
  }

  /** Binds the configured listeners. @throws {ApiBindError} naming the address and the cause. */
  async start(): Promise<void> {
    const { socketPath, tcpListen, logger } = this.options;
    if (socketPath !== null) {
      await prepareSocketPath(socketPath);
      await this.bind({ path: socketPath }, `unix:${socketPath}`);
      this.socketBound = true;
      await chmod(socketPath, 0o660);
      logger.info('HTTP check endpoint listening', { socket: socketPath });
    }
    if (tcpListen !== null) {
      const address = tcpAddress(tcpListen, 'check.listen');
      this.boundPort = await this.bind(address, tcpListen);
      logger.info('HTTP check endpoint listening', { listen: `${address.host}:${this.boundPort}` });
    }
  }

  /** Stops accepting, closes every connection, and removes the socket file it bound (never another's). */
  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.servers.length = 0;
    if (this.socketBound && this.options.socketPath !== null) {
      this.socketBound = false;
      await unlink(this.options.socketPath).catch(() => {});
    }
  }

  private bind(where: { path: string } | { host: string; port: number }, label: string) {
    const server = createServer((request, response) => this.handle(request, response));
    // The cap is kept here (Bun's node:http ignores maxConnections): a connection over it is
    // closed as it arrives, before it can send anything.
    let open = 0;
    // Slow clients: a connection must bring each request's headers within headersTimeoutMs (and
    // its body within as long again), else it is closed — enforced here, not left to the runtime.
    server.on('connection', (socket: Socket) => {
      if (open >= this.options.maxConnections) {
        this.refused('too_many_connections');
        socket.destroy();
        return;
      }
      open++;
      this.arm(socket, this.options.headersTimeoutMs);
      socket.on('close', () => {
        open--;
        this.disarm(socket);
      });
    });
    this.servers.push(server);
    return new Promise<number>((resolve, reject) => {
      server.once('error', (error) =>
        reject(new ApiBindError(`cannot listen on ${label}: ${error.message}`, { cause: error })),
      );
      server.listen(where, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  /**
   * Closes `socket` unless a request's headers arrive within `ms` (`busy`: a request is being
   * read, so its body must arrive instead). A connection that sent nothing at all is an idle
   * keep-alive one closed quietly; one that sent part of a request is counted as cut off. One
   * timer per connection, refreshed per request (creating two per request cost a third of the
   * endpoint's throughput).
   */
  private arm(socket: Socket, ms: number, busy = false): void {
    const deadline = this.deadlines.get(socket);
    if (deadline !== undefined) {
      deadline.read = socket.bytesRead;
      deadline.busy = busy;
      deadline.timer.refresh();
      return;
    }
    const fresh: Deadline = {
      read: socket.bytesRead,
      busy,
      timer: setTimeout(() => {
        if (fresh.busy || socket.bytesRead > fresh.read) this.refused('header_timeout');
        socket.destroy();
      }, ms),
    };
    this.deadlines.set(socket, fresh);
  }

  private refused(reason: 'too_many_connections' | 'header_timeout'): void {
    this.options.onConnectionRefused?.(reason);
    if (this.logged.has(reason)) return;
    this.logged.add(reason);
    this.options.logger.warn(
      reason === 'too_many_connections'
        ? 'check endpoint refusing connections over check.max_connections (counted in filament_api_connections_refused_total; logged once)'
        : 'check endpoint closed a connection that sent no complete request within check.header_timeout_ms (counted; logged once)',
      {
        limit:
          reason === 'too_many_connections'
            ? this.options.maxConnections
            : this.options.headersTimeoutMs,
      },
    );
  }

  private disarm(socket: Socket): void {
    clearTimeout(this.deadlines.get(socket)?.timer);
    this.deadlines.delete(socket);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > this.options.maxBodyBytes) {
      this.send(response, tooLarge(declared, this.options.maxBodyBytes), true);
      return;
    }
    // nginx's auth_request sends no body: answer at once, without reading a stream.
    if (declared === 0 && request.headers['transfer-encoding'] === undefined) {
      this.answer(request, response, undefined);
      return;
    }
    this.arm(socket, this.options.headersTimeoutMs, true);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > this.options.maxBodyBytes) {
        refused = true;
        this.send(response, tooLarge(size, this.options.maxBodyBytes), true);
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', () => response.destroy());
    request.on('end', () => {
      if (refused) return;
      const body = chunks.length === 0 ? undefined : new Uint8Array(Buffer.concat(chunks));
      this.answer(request, response, body);
    });
  }

  private answer(request: IncomingMessage, response: ServerResponse, body: Uint8Array | undefined) {
    let answer: CheckAnswer;
    try {
      const contentType = request.headers['content-type'];
      answer = checkRequest(
        {
          headers: request.headers,
          ...(body !== undefined ? { body } : {}),
          ...(contentType !== undefined ? { contentType } : {}),
        },
        this.options.judge,
        this.options,
        this.readHeader,
      );
    } catch (error) {
      this.options.logger.error('check failed', { error: (error as Error).message });
      answer = {
        status: 500,
        headers: { 'content-type': 'application/json', 'filament-verdict': 'error' },
        body: `${JSON.stringify({ verdict: 'error', message: 'the check failed; see the sidecar log' })}\n`,
      };
    }
    this.send(response, answer, false);
  }

  private send(response: ServerResponse, answer: CheckAnswer, close: boolean): void {
    if (response.headersSent) return;
    this.options.onAnswer?.(answer);
    const socket = response.socket;
    response.writeHead(answer.status, {
      ...answer.headers,
      'content-length': Buffer.byteLength(answer.body),
      ...(close ? { connection: 'close' } : {}),
    });
    response.end(answer.body);
    // The next request on this connection must come within the deadline too.
    if (!close && socket !== null) this.arm(socket, this.options.headersTimeoutMs);
  }
}

function tooLarge(size: number, limit: number): CheckAnswer {
  const carrier = answerCarrier({
    code: 'CARRIER_TOO_LARGE',
    message: `the request body is ${size} bytes or more; this host checks at most ${limit}`,
  });
  return { ...carrier, status: 413 };
}

/** A connection's deadline: its timer, and what it had read when armed. */
interface Deadline {
  read: number;
  busy: boolean;
  readonly timer: ReturnType<typeof setTimeout>;
}
