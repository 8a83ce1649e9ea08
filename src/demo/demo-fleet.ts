import { join } from 'node:path';
import { buildConfig, type Config } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import type { ReplicaState } from '../report/index.ts';
import { Resolver } from '../resolver/index.ts';
import { Sidecar } from '../sidecar/index.ts';
import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from './model-server-stand-in.ts';

/** One simulated GPU host of the demo: what its model server says, and the sidecar next to it. */
interface DemoHost {
  readonly replica: string;
  readonly server: ModelServerStandIn;
  readonly sidecar: Sidecar;
  readonly expect: ReplicaState;
}

/** Config for a demo sidecar whose saturation comes from `server`, quick enough for a demo. */
export function demoHostConfig(
  replica: string,
  broker: { url: string; protocol: '5' | '3.1.1' },
  stateDir: string,
  server: ModelServerStandIn,
): Config {
  return buildConfig({
    identity: { replica, cluster: 'gpu-east' },
    broker: {
      urls: [broker.url],
      protocol: broker.protocol,
      reconnect: { initial_ms: 100, max_ms: 1000 },
    },
    rules: { tenants: ['acme'] },
    state: { dir: join(stateDir, replica) },
    metrics: { listen: 'off' },
    validation: { payload_default: 'always' },
    // No [[models]]: with a vLLM metrics URL, filament asks that server's /v1/models what it has.
    inventory: { poll_interval_ms: 200 },
    saturation: {
      metrics_url: `${server.base}/metrics`,
      readiness_url: `${server.base}/v2/health/ready`,
      scrape_interval_ms: 50,
      readiness_interval_ms: 50,
      evaluate_interval_ms: 50,
      warmup_ms: 0,
      smoothing: 1,
      nvidia_smi: 'off',
    },
  });
}

/**
 * The rest of the demo fleet: a busy host (15 requests queued) and a cold one (model not loaded),
 * each with a model-server stand-in and a sidecar, plus a resolver following their reports.
 */
export class DemoFleet {
  private readonly hosts: DemoHost[] = [];
  readonly resolver: Resolver;

  private constructor(broker: { url: string; protocol: '5' | '3.1.1' }) {
    this.resolver = new Resolver({
      urls: [broker.url],
      protocolVersion: broker.protocol === '5' ? 5 : 4,
    });
  }

  /** Starts the busy and cold hosts and the resolver. */
  static async start(
    broker: { url: string; protocol: '5' | '3.1.1' },
    stateDir: string,
  ): Promise<DemoFleet> {
    const fleet = new DemoFleet(broker);
    fleet.resolver.start();
    const quiet = createLogger({ level: 'error', write: () => {} });
    for (const [replica, queued, ready, expect] of [
      ['demo-host-b', 15, true, 'SATURATED'],
      ['demo-host-c', 0, false, 'COLD'],
    ] as const) {
      const server = await startModelServerStandIn();
      server.metrics = vllmMetrics(queued, ready ? 60 : 0, ready ? 0.93 : 0);
      server.ready = ready;
      if (ready)
        server.served = [
          { id: 'llama-3.1-8b-instruct' },
          {
            id: 'acme-support',
            parent: 'llama-3.1-8b-instruct',
            root: '/adapters/acme/support-v3',
          },
        ];
      const sidecar = new Sidecar(demoHostConfig(replica, broker, stateDir, server), {
        logger: quiet,
      });
      await sidecar.start();
      fleet.hosts.push({ replica, server, sidecar, expect });
    }
    return fleet;
  }

  /** Waits (at most `timeoutMs`) until every replica in `expected` has reported that state. */
  async settle(
    expected: Readonly<Record<string, ReplicaState>>,
    timeoutMs = 10_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = new Map(
        this.resolver.replicas().map((r) => [r.report.replica, r.report.state]),
      );
      if (Object.entries(expected).every(([replica, state]) => states.get(replica) === state))
        return;
      if (Date.now() > deadline)
        throw new Error(
          `the demo fleet did not settle: ${JSON.stringify(Object.fromEntries(states))}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Waits (at most `timeoutMs`) until `condition` holds. */
  async until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('the demo fleet did not get there in time');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Stops every sidecar, stand-in and the resolver. */
  async stop(): Promise<void> {
    for (const host of this.hosts) {
      await host.sidecar.stop();
      await host.server.close();
    }
    await this.resolver.stop();
  }
}
