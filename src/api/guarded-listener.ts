import { createServer, type Server, type Socket } from 'node:net';

/** Limits of one API listener. */
export interface ListenerLimits {
  /** Connections open at once; more are closed as they arrive. */
  readonly maxConnections: number;
  /**
   * A connection must have completed the HTTP/2 handshake (the client's preface and SETTINGS)
   * within this long, ms; 0 = no deadline. Whoever accepts the connection reports the handshake
   * with {@linkcode GuardedListener.handshaken}.
   */
  readonly handshakeMs: number;
}

/** Options for {@linkcode GuardedListener}. */
export interface GuardedListenerOptions extends ListenerLimits {
  /** What the listener is, for logs (`unix:/run/filament/filament.sock`). */
  readonly label: string;
  /** Hands an accepted connection to the gRPC server. */
  readonly accept: (socket: Socket) => void;
  /** Told of every refused or dropped connection, with why. */
  readonly onRefused: (reason: 'too_many_connections' | 'handshake_timeout') => void;
  /** Told of every closed connection (its native memory is freed only when it is collected). */
  readonly onClosed?: () => void;
}

/**
 * A socket listener in front of the gRPC server that a hostile or broken local client cannot use
 * to run the process out of file descriptors: at most `maxConnections` open (the rest are closed
 * at once), and a connection that has not completed the HTTP/2 handshake within `handshakeMs` is
 * closed.
 * (Idle connections without calls are closed by the gRPC server itself: max_connection_idle.)
 */
export class GuardedListener {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private readonly shaken = new WeakSet<Socket>();

  constructor(private readonly options: GuardedListenerOptions) {
    this.server = createServer({ pauseOnConnect: false }, (socket) => this.connection(socket));
    // Over the cap the runtime closes new connections before any socket object is made (cheaper
    // under a flood than accepting and destroying each); `drop` tells us.
    this.server.maxConnections = options.maxConnections;
    this.server.on('drop', () => options.onRefused('too_many_connections'));
  }

  /** Listens on a unix socket path or a TCP `{ host, port }`; resolves with the port (0 for unix). */
  listen(where: { path: string } | { host: string; port: number }): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(where, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  /** Records that `socket` completed its HTTP/2 handshake (it keeps its place past the deadline). */
  handshaken(socket: Socket): void {
    this.shaken.add(socket);
  }

  /** Connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /** Stops accepting; resolves once every open connection has closed too. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Closes every open connection at once (after a graceful stop had its time). */
  destroyConnections(): void {
    for (const socket of this.open) socket.destroy();
  }

  private connection(socket: Socket): void {
    if (this.open.size >= this.options.maxConnections) {
      socket.destroy();
      this.options.onRefused('too_many_connections');
      return;
    }
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      this.options.onClosed?.();
    });
    if (this.options.handshakeMs > 0) {
      const timer = setTimeout(() => {
        if (this.shaken.has(socket) || socket.destroyed) return;
        socket.destroy();
        this.options.onRefused('handshake_timeout');
      }, this.options.handshakeMs);
      (timer as { unref?: () => void }).unref?.();
      socket.once('close', () => clearTimeout(timer));
    }
    this.options.accept(socket);
  }
}
