import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';
import { freePort, type MosquittoBroker, waitForPort } from '../../src/local-broker/index.ts';
import { brokerWithRules } from '../helpers/broker.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const AGENT_INTER_MS = 250;
const HOSTS = ['h1', 'h2', 'h3'] as const;
type Host = (typeof HOSTS)[number];

let broker: MosquittoBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
let haproxy: ChildProcess;
let frontend: string;
const servers = new Map<Host, ModelServerStandIn>();
const sidecars = new Map<Host, SidecarProcess>();
const agentPorts = new Map<Host, number>();

/** A `filament run` next to `host`'s stand-in, its agent-check on a fixed free port. */
async function startSidecar(host: Host): Promise<void> {
  const server = servers.get(host) as ModelServerStandIn;
  const config = join(dir.path, `${host}.toml`);
  await writeFile(
    config,
    [
      '[api]',
      `socket = "${join(dir.path, `${host}.sock`)}"`,
      '[agent_check]',
      `listen = "127.0.0.1:${agentPorts.get(host)}"`,
      `leave_ms = ${8 * AGENT_INTER_MS}`,
      '[inventory]',
      'source = "static"',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      `readiness_url = "${server.base}/v2/health/ready"`,
      'scrape_interval_ms = 50',
      'readiness_interval_ms = 50',
      'evaluate_interval_ms = 50',
      'warmup_ms = 0',
      'smoothing = 1',
      'nvidia_smi = "off"',
      // The model the rules route here: a host that can serve nothing routed to it is COLD.
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
      replica: host,
      stateDir: join(dir.path, host),
    }),
  );
  sidecars.set(host, sidecar);
  await sidecar.waitForLog((l) => l.msg === 'HAProxy agent-check listening', 'the agent port');
}

/** Sends `n` requests through HAProxy (8 at a time) and returns each host's share of them. */
async function shares(n = 240): Promise<Record<Host, number>> {
  const before = HOSTS.map((h) => (servers.get(h) as ModelServerStandIn).hits());
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < n) await (await fetch(`${frontend}/v1/completions`)).text();
    }),
  );
  const counts = HOSTS.map(
    (h, i) => (servers.get(h) as ModelServerStandIn).hits() - (before[i] as number),
  );
  const total = counts.reduce((a, b) => a + b, 0);
  return Object.fromEntries(HOSTS.map((h, i) => [h, (counts[i] as number) / total])) as Record<
    Host,
    number
  >;
}

/** Waits two agent intervals (and the sidecar's own reaction), then measures. */
async function settleThenShares(label: string): Promise<Record<Host, number>> {
  await Bun.sleep(2 * AGENT_INTER_MS + 300);
  const s = await shares();
  console.log(
    `${label.padEnd(44)} ${HOSTS.map((h) => `${h} ${(s[h] * 100).toFixed(0)} %`).join('  ')}`,
  );
  return s;
}

beforeAll(async () => {
  broker = await brokerWithRules();
  dir = await tempDir('filament-haproxy-');
  const lines: string[] = [];
  for (const host of HOSTS) {
    const server = await startModelServerStandIn();
    server.ready = true;
    server.metrics = vllmMetrics(0, 1, 0.1);
    servers.set(host, server);
    agentPorts.set(host, await freePort());
    await startSidecar(host);
    lines.push(
      `  server ${host} ${server.base.replace('http://', '')} weight 100 agent-check agent-port ${agentPorts.get(host)} agent-inter ${AGENT_INTER_MS}ms`,
    );
  }
  const port = await freePort();
  frontend = `http://127.0.0.1:${port}`;
  const cfg = join(dir.path, 'haproxy.cfg');
  await writeFile(
    cfg,
    [
      'global',
      '  maxconn 512',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 5s',
      '  timeout server 5s',
      'frontend fe',
      `  bind 127.0.0.1:${port}`,
      '  default_backend models',
      'backend models',
      '  balance roundrobin',
      ...lines,
      '',
    ].join('\n'),
  );
  haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForPort(port, 5000, '127.0.0.1');
});
afterAll(async () => {
  haproxy?.kill('SIGTERM');
  for (const s of sidecars.values()) await s.kill('SIGTERM');
  for (const s of servers.values()) await s.close();
  await broker.stop();
  await dir.remove();
});

describe("Debian's haproxy steered by filament's agent-check", () => {
  test('saturated gets at most a third of an idle host, cold none, a stopping host drains, and all come back', async () => {
    const idle = await settleThenShares('all idle');
    for (const h of HOSTS) expect(idle[h]).toBeGreaterThan(0.2);

    // h2 saturates: 40 queued against max_queue 16.
    (servers.get('h2') as ModelServerStandIn).metrics = vllmMetrics(40, 64, 0.97);
    const saturated = await settleThenShares('h2 SATURATED');
    expect(saturated.h2).toBeLessThanOrEqual(saturated.h1 / 3);
    expect(saturated.h2).toBeGreaterThan(0); // the floor: it still gets a trickle

    // h3 goes cold (its model server is not ready): no requests at all.
    (servers.get('h3') as ModelServerStandIn).ready = false;
    const cold = await settleThenShares('h2 SATURATED, h3 COLD');
    expect(cold.h3).toBe(0);

    // h1's sidecar stops: its agent answers drain, then down, then the port is gone.
    const exited = (sidecars.get('h1') as SidecarProcess).kill('SIGTERM');
    const draining = await settleThenShares('h1 sidecar stopping (drain)');
    expect(draining.h1).toBe(0);
    expect(await exited).toBe(0);
    const stopped = await settleThenShares('h1 sidecar gone (down), h2 SATURATED, h3 COLD');
    expect(stopped.h1).toBe(0);
    expect(stopped.h2).toBe(1);

    // Everything recovers: traffic returns to all three.
    (servers.get('h2') as ModelServerStandIn).metrics = vllmMetrics(0, 1, 0.1);
    (servers.get('h3') as ModelServerStandIn).ready = true;
    await startSidecar('h1');
    const back = await settleThenShares('all back');
    for (const h of HOSTS) expect(back[h]).toBeGreaterThan(0.2);
  }, 60_000);
});
