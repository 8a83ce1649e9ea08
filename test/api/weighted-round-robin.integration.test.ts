import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
// grpc-js 1.14 does not re-export its ORCA client at the top level.
import { createOrcaClient } from '@grpc/grpc-js/build/src/orca.js';
import { orcaRelay } from '../../src/api/index.ts';
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

/**
 * gRPC's client-side weighted round robin (gRFC A58, as in @grpc/grpc-js 1.14) over three
 * backends whose out-of-band ORCA load comes from filament. Each host is a gRPC stand-in model
 * server (a `Generate` call that takes `BASE_MS` × its cost), its HTTP metrics stand-in (vLLM
 * names: requests finished, and the time-averaged number in flight since the last scrape) and a
 * real `filament run` reading them. The backend serves `OpenRcaService` by relaying to its
 * sidecar (`orcaRelay`), so the client's per-connection ORCA stream reads filament's reports.
 *
 * A host made four times slower carries four times the concurrency at the same rate, so its
 * score is four times higher and weighted round robin's weight (rate ÷ utilization) a quarter:
 * its share of calls must fall to well under half of a normal host's, and come back when it does.
 */
const BASE_MS = 8;
const MAX_CONCURRENCY = 4;
const WRR = {
  loadBalancingConfig: [
    {
      weighted_round_robin: {
        enable_oob_load_report: true,
        oob_load_reporting_period: '0.25s',
        blackout_period: '0s',
        weight_update_period: '0.1s',
        weight_expiration_period: '5s',
      },
    },
  ],
};

interface Host {
  cost: number;
  served: number;
  busyMs: number;
  metrics: ModelServerStandIn;
  grpcServer: grpc.Server;
  port: number;
  sidecar: SidecarProcess;
  relay: ReturnType<typeof orcaRelay>;
}

let broker: MosquittoBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
const hosts: Host[] = [];
const bytes = (b: Buffer) => b;

/** The HTTP stand-in's metrics: finished requests and mean concurrency since the last scrape. */
function liveMetrics(host: Host): void {
  let lastAt = performance.now();
  let lastBusy = 0;
  Object.defineProperty(host.metrics, 'metrics', {
    get() {
      const now = performance.now();
      const running = (host.busyMs - lastBusy) / Math.max(1, now - lastAt);
      lastAt = now;
      lastBusy = host.busyMs;
      return vllmMetrics(0, Math.round(running * 1000) / 1000, 0, { requests: host.served });
    },
  });
}

async function startHost(name: string): Promise<Host> {
  const metrics = await startModelServerStandIn();
  metrics.ready = true;
  const socket = join(dir.path, `${name}.sock`);
  const config = join(dir.path, `${name}.toml`);
  await writeFile(
    config,
    [
      '[api]',
      `socket = "${socket}"`,
      '[inventory]',
      'source = "static"',
      '[saturation]',
      `metrics_url = "${metrics.base}/metrics"`,
      'scrape_interval_ms = 250',
      'evaluate_interval_ms = 50',
      `max_concurrency = ${MAX_CONCURRENCY}`,
      'warmup_ms = 0',
      'nvidia_smi = "off"',
      // The model the rules route here, loaded: a host that knows of no model is never READY.
      '[[models]]',
      'id = "llama-8b"',
      'version = "2026-10-01"',
    ].join('\n'),
  );
  const sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [broker.url],
      tenant: 'acme',
      replica: name,
      stateDir: join(dir.path, name),
    }),
  );
  await sidecar.waitForLog((l) => l.msg === 'applied rule set', `${name}'s rules`);
  const relay = orcaRelay(`unix:${socket}`);
  const grpcServer = new grpc.Server();
  const host = { cost: 1, served: 0, busyMs: 0, metrics, grpcServer, port: 0, sidecar, relay };
  grpcServer.addService(relay.service, relay.implementation);
  grpcServer.addService(
    {
      Generate: {
        path: '/standin.ModelServer/Generate',
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        responseSerialize: bytes,
        responseDeserialize: bytes,
      },
    },
    {
      Generate(_call: unknown, callback: grpc.sendUnaryData<Buffer>) {
        const ms = BASE_MS * host.cost;
        setTimeout(() => {
          host.served++;
          host.busyMs += ms;
          callback(null, Buffer.alloc(0));
        }, ms);
      },
    },
  );
  host.port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(port),
    ),
  );
  liveMetrics(host);
  return host;
}

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-wrr-');
  for (const name of ['h1', 'h2', 'h3']) hosts.push(await startHost(name));
}, 30_000);
afterAll(async () => {
  for (const h of hosts) {
    h.grpcServer.forceShutdown();
    h.relay.close();
    await h.sidecar.kill('SIGTERM');
    await h.metrics.close();
  }
  await broker?.stop();
  await dir?.remove();
});

describe('gRPC weighted_round_robin with out-of-band ORCA from filament', () => {
  test('a slow host gets proportionally fewer calls, and its share comes back', async () => {
    const target = `ipv4:${hosts.map((h) => `127.0.0.1:${h.port}`).join(',')}`;
    const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify(WRR),
    });
    let running = true;
    const failures: string[] = [];
    // Open loop: 200 calls a second, whatever the backends take.
    const load = (async () => {
      while (running) {
        for (let i = 0; i < 2; i++)
          client.makeUnaryRequest(
            '/standin.ModelServer/Generate',
            bytes,
            bytes,
            Buffer.alloc(0),
            (error) => {
              if (error) failures.push(`${grpc.status[error.code]}: ${error.details}`);
            },
          );
        await Bun.sleep(10);
      }
    })();
    const window = async (ms: number) => {
      const before = hosts.map((h) => h.served);
      await Bun.sleep(ms);
      const counts = hosts.map((h, i) => h.served - (before[i] as number));
      const total = counts.reduce((a, b) => a + b, 0);
      return counts.map((c) => c / Math.max(1, total));
    };
    const show = (phase: string, s: number[]) =>
      console.log(
        `${phase.padEnd(22)} ${s.map((x) => `${(x * 100).toFixed(0)} %`.padStart(6)).join('')}`,
      );
    /**
     * Shares over 1.5 s windows after `settleMs`, until `settled` holds for one window or
     * `deadlineMs` has passed: a loaded CI machine moves weights later, not differently. The
     * last window is returned either way, and the assertions below judge it.
     */
    const sharesWhen = async (
      phase: string,
      settleMs: number,
      deadlineMs: number,
      settled: (s: number[]) => boolean,
    ) => {
      await Bun.sleep(settleMs);
      const until = performance.now() + deadlineMs;
      for (;;) {
        const s = await window(1500);
        show(phase, s);
        if (settled(s) || performance.now() > until) return s;
      }
    };
    const slowShare = (s: number[]) =>
      (s[1] as number) / (((s[0] as number) + (s[2] as number)) / 2);

    console.log(`${'phase'.padEnd(22)}${'h1'.padStart(6)}${'h2'.padStart(6)}${'h3'.padStart(6)}`);
    const even = await sharesWhen('all alike', 1500, 6000, (s) => s.every((x) => x > 0.2));
    (hosts[1] as Host).cost = 4;
    const slow = await sharesWhen('h2 four times slower', 2000, 8000, (s) => slowShare(s) < 0.5);
    (hosts[1] as Host).cost = 1;
    const back = await sharesWhen('h2 back to normal', 2000, 8000, (s) => slowShare(s) > 0.6);
    running = false;
    await load;
    client.close();

    expect(failures).toEqual([]);
    for (const s of even) expect(s).toBeGreaterThan(0.2);
    // Expected about a quarter of a normal host's share (weight = rate ÷ utilization).
    expect(slowShare(slow)).toBeLessThan(0.5);
    expect(slow[1]).toBeGreaterThan(0);
    expect(slowShare(back)).toBeGreaterThan(0.6);
  }, 90_000);

  test('a relay whose sidecar is not there ends the stream UNAVAILABLE, naming it', async () => {
    const missing = `unix:${join(dir.path, 'nobody.sock')}`;
    const relay = orcaRelay(missing);
    const server = new grpc.Server();
    server.addService(relay.service, relay.implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const channel = new grpc.Channel(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {});
    const client = createOrcaClient(channel);
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      const stream = client.streamCoreMetrics({ report_interval: { seconds: 1, nanos: 0 } });
      stream.on('data', () => {});
      stream.on('error', resolve);
    });
    client.close();
    relay.close();
    server.forceShutdown();
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toStartWith(`filament sidecar ${missing}: `);
  });
});
