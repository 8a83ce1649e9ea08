import { createServer, type Server } from 'node:http';
import { ScrapePacer } from './scrape-pacer.ts';

/** Thrown when the metrics endpoint cannot listen where configured. */
export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}

/**
 * Serves `GET /metrics` (Prometheus text) on a loopback `host:port` (port 0: any free one),
 * paced by a {@linkcode ScrapePacer} (5 a second; a looping scraper waits its turn, and past 64
 * waiting gets 503 with `Retry-After`). Everything else is 404.
 */
export class MetricsServer {
  private server: Server | null = null;
  private boundPort = 0;
  private readonly pacer: ScrapePacer | null;

  constructor(
    private readonly listen: string,
    private readonly render: () => Promise<string>,
    private readonly contentType: string,
    /** Scrapes answered per second at most; 0 = unpaced. Default 5. */
    maxPerSecond = 5,
  ) {
    this.pacer = maxPerSecond > 0 ? new ScrapePacer({ perSecond: maxPerSecond }) : null;
  }

  /** The port bound. */
  get port(): number {
    return this.boundPort;
  }

  /** @throws {MetricsListenError} naming the address and the cause. */
  async start(): Promise<void> {
    const match = /^(.*):(\d+)$/.exec(this.listen);
    if (!match)
      throw new MetricsListenError(`metrics.listen must be host:port, got "${this.listen}"`);
    const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
        response.writeHead(404).end('not found: try /metrics\n');
        return;
      }
      void (this.pacer?.turn() ?? Promise.resolve(true)).then((go) => {
        if (!go) {
          response.writeHead(503, { 'retry-after': '1' }).end('too many scrapes waiting\n');
          return;
        }
        this.render().then(
          (text) => response.writeHead(200, { 'content-type': this.contentType }).end(text),
          (error: Error) => response.writeHead(500).end(`metrics failed: ${error.message}\n`),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new MetricsListenError(`cannot listen on ${this.listen} for metrics: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      server.listen(Number(match[2]), host, () => resolve());
    });
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  /** Stops listening. Idempotent. */
  stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.pacer?.close();
    if (!server) return Promise.resolve();
    server.closeAllConnections?.();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
