import { createServer, type Server, type Socket } from 'node:net';

/** Options for {@linkcode AgentServer}. */
export interface AgentServerOptions {
  readonly host: string;
  readonly port: number;
  /** The line to answer with, asked anew for every connection. */
  readonly reply: () => string;
  /** Connections open at once; more are closed as they arrive. Default 64. */
  readonly maxConnections?: number;
  /** A connection still open this long after its answer was sent is destroyed, ms. Default 2000. */
  readonly timeoutMs?: number;
  /** Told of every answered connection (for metrics). */
  readonly onAnswered?: () => void;
}

/**
 * The HAProxy agent-check port: every connection gets one line — the current answer — and is
 * closed, as HAProxy expects (one short connection per `agent-inter`). What the client sends
 * (`agent-send`, or junk) is read and thrown away; a client that never reads its answer is cut
 * off after `timeoutMs`; at most `maxConnections` are open at once.
 */
export class AgentServer {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private boundPort: number | null = null;
  private override: string | null = null;

  constructor(private readonly options: AgentServerOptions) {
    this.server = createServer((socket) => this.answer(socket));
    this.server.maxConnections = options.maxConnections ?? 64;
  }

  /** Listens; resolves with the port bound (useful with port 0). */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.options.host, port: this.options.port }, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : 0;
        resolve(this.boundPort);
      });
    });
  }

  /** The port bound, or `null` before {@linkcode start}. */
  get port(): number | null {
    return this.boundPort;
  }

  /** Connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /**
   * Leaves gracefully: answers as before (the sidecar is DRAINING, so `drain`) for `drainMs`, then
   * `downLine` for `downMs`, so the load balancer sees the drain and then the server down before the
   * port goes away (HAProxy keeps the last state an agent gave when it can no longer reach it).
   */
  async leave(drainMs: number, downMs: number, downLine: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, drainMs));
    this.override = downLine;
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.stop();
  }

  /** Stops listening and closes every open connection. */
  stop(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(socket: Socket): void {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
    socket.on('error', () => {});
    socket.setTimeout(this.options.timeoutMs ?? 2000, () => socket.destroy());
    // Whatever the client sends is not needed: read and dropped, so it cannot fill a buffer.
    socket.on('data', () => {});
    socket.end(this.override ?? this.options.reply());
    this.options.onAnswered?.();
  }
}
