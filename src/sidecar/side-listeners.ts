import { ApiServer, type ApiServerOptions, CheckHttpServer } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { AgentServer, agentReply } from '../haproxy-agent/index.ts';
import type { Logger } from '../log/index.ts';
import type { MetricsServer, SidecarMetrics } from '../metrics/index.ts';
import type { CheckTally } from '../request-check/index.ts';
import type { SaturationMonitor } from '../saturation/index.ts';
import { checkSettings, countCheckAnswer } from './check-counting.ts';
import { startMetricsServer } from './start-steps.ts';

/** What {@linkcode SideListeners.start} needs besides the config. */
interface SideParts {
  readonly metrics: SidecarMetrics;
  readonly monitor: SaturationMonitor;
  readonly log: Logger;
  /** The local API's options: the ORCA port serves the same backend with its own limits. */
  readonly api: ApiServerOptions;
  /** The request-path check's tally (`filament status`). */
  readonly checks: CheckTally;
}

/**
 * The listeners beside the gRPC API: the HTTP check endpoint proxies ask per request, `/metrics`,
 * the HAProxy agent-check port and the ORCA port for load balancers on other machines. A port
 * that is taken is logged, not fatal: validation must not stop because a side door could not
 * open.
 */
export class SideListeners {
  private constructor(
    private readonly metrics: MetricsServer | null,
    private readonly agent: AgentServer | null,
    private readonly orca: ApiServer | null,
    private readonly check: CheckHttpServer | null,
    private readonly leaveMs: number,
  ) {}

  /** Starts what the config asks for. */
  static async start(c: Config, parts: SideParts): Promise<SideListeners> {
    const metrics = await startMetricsServer(c.metrics, parts.metrics, parts.log);
    const agent = await startAgent(c, parts);
    const orca = await startOrca(c, parts);
    return new SideListeners(
      metrics,
      agent,
      orca,
      await startCheck(c, parts),
      c.agentCheck.leaveMs,
    );
  }

  /** The HTTP check endpoint's TCP port, or `null`. */
  get checkPort(): number | null {
    return this.check?.tcpPort ?? null;
  }

  /** The ORCA port, or `null`. */
  get orcaPort(): number | null {
    return this.orca?.tcpPort ?? null;
  }

  /** The port `/metrics` listens on, or `null`. */
  get metricsPort(): number | null {
    return this.metrics?.port ?? null;
  }

  /** The agent-check port, or `null`. */
  get agentPort(): number | null {
    return this.agent?.port ?? null;
  }

  /**
   * Stops both; the agent port first answers `drain` for half of `agent_check.leave_ms`, then
   * `down` for the other half, so HAProxy sees the replica go rather than lose its agent.
   */
  async stop(): Promise<void> {
    await Promise.all([
      this.agent?.leave(this.leaveMs / 2, this.leaveMs / 2, 'down #OFFLINE: the sidecar stopped\n'),
      this.orca?.stop(1000),
      this.check?.stop(),
    ]);
    await this.metrics?.stop();
  }
}

async function startOrca(c: Config, parts: SideParts): Promise<ApiServer | null> {
  if (c.orca.listen === null) return null;
  const server = new ApiServer({
    ...parts.api,
    socketPath: null,
    tcpListen: c.orca.listen,
    surface: 'load-reports',
    logger: parts.log.child('orca'),
    limits: { ...parts.api.limits, maxConnections: c.orca.maxConnections },
  });
  try {
    await server.start();
    return server;
  } catch (error) {
    parts.log.error('ORCA port not started', { listen: c.orca.listen, error: String(error) });
    await server.stop(0);
    return null;
  }
}

async function startAgent(c: Config, parts: SideParts): Promise<AgentServer | null> {
  const a = c.agentCheck;
  if (a.listen === null) return null;
  const match = /^(.*):(\d+)$/.exec(a.listen) as RegExpExecArray;
  const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
  const options = {
    minWeightPercent: a.minWeightPercent,
    warmingWeightPercent: a.warmingWeightPercent,
    maxConnections: c.saturation.thresholds.maxConcurrency,
  };
  const server = new AgentServer({
    host,
    port: Number(match[2]),
    reply: () => agentReply(parts.monitor.current(), options),
    maxConnections: a.maxConnections,
    onAnswered: () => parts.metrics.agentChecks.inc(),
  });
  try {
    const port = await server.start();
    parts.log.info('HAProxy agent-check listening', { address: `${host}:${port}` });
    return server;
  } catch (error) {
    parts.log.error('HAProxy agent-check not started', { listen: a.listen, error: String(error) });
    return null;
  }
}

async function startCheck(c: Config, parts: SideParts): Promise<CheckHttpServer | null> {
  const k = c.check;
  if (k.socket === null && k.listen === null) return null;
  const server = new CheckHttpServer({
    socketPath: k.socket,
    tcpListen: k.listen,
    ...checkSettings(c),
    maxBodyBytes: k.maxBodyBytes,
    maxConnections: k.maxConnections,
    headersTimeoutMs: k.headerTimeoutMs,
    judge: (config, payload) => parts.api.backend.validate(config, payload),
    logger: parts.log.child('check'),
    onConnectionRefused: (reason) =>
      parts.metrics.connectionsRefused.inc({ listener: 'check', reason }),
    onAnswer: countCheckAnswer(c, parts.metrics, parts.checks),
  });
  try {
    await server.start();
    return server;
  } catch (error) {
    parts.log.error('HTTP check endpoint not started', {
      socket: k.socket,
      listen: k.listen,
      error: String(error),
    });
    await server.stop();
    return null;
  }
}
