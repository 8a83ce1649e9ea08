import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';
import type { MosquittoBroker } from '../../src/local-broker/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** What {@linkcode startBenchSidecar} started, and how to stop it all. */
export interface BenchSidecar {
  readonly broker: MosquittoBroker;
  readonly server: ModelServerStandIn;
  readonly sidecar: SidecarProcess;
  /** The sidecar's API socket. */
  readonly socket: string;
  /** A scratch folder, removed by `stop`. */
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * One real `filament run` for a benchmark: a private broker with acme's rules, an idle vLLM
 * stand-in scraped every 50 ms (no warm-up, no smoothing, no nvidia-smi), the API on a socket,
 * and `extra` config lines (an `[agent_check]` section, say).
 */
export async function startBenchSidecar(
  name: string,
  extra: readonly string[] = [],
): Promise<BenchSidecar> {
  const broker = await brokerWithRules();
  const dir = await tempDir(`filament-${name}-bench-`);
  const server = await startModelServerStandIn();
  server.ready = true;
  server.metrics = vllmMetrics(0, 1, 0.1);
  const socket = join(dir.path, 'api.sock');
  const config = join(dir.path, 'filament.toml');
  await writeFile(
    config,
    [
      '[api]',
      `socket = "${socket}"`,
      ...extra,
      '[inventory]',
      'source = "static"',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      'scrape_interval_ms = 50',
      'evaluate_interval_ms = 50',
      'warmup_ms = 0',
      'smoothing = 1',
      'nvidia_smi = "off"',
      // The model the rules route here (a host that can serve none of it is COLD).
      '[[models]]',
      'id = "llama-8b"',
      'version = "2026-10-01"',
    ].join('\n'),
  );
  const sidecar = startSidecarProcess(
    sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: join(dir.path, 's') }),
  );
  return {
    broker,
    server,
    sidecar,
    socket,
    dir: dir.path,
    async stop() {
      await sidecar.kill('SIGTERM');
      await server.close();
      await broker.stop();
      await dir.remove();
    },
  };
}
