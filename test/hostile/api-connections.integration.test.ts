import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { AckWatcher } from '../../src/demo/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

// Found by an outside probe (issue 11, finding 2): 20,000 unix-socket connections that sent half
// the HTTP/2 preface and went silent exhausted the sidecar's file descriptors; the next rule
// version was applied but not persisted, /metrics stopped answering, nothing was logged.

const MAX_CONNECTIONS = 64;
const HANDSHAKE_MS = 1000;
const HALF_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe('a flood of half-open API connections', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let socket: string;
  let acks: AckWatcher;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir();
    socket = join(dir.path, 'api.sock');
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      `[api]\nsocket = "${socket}"\nmax_connections = ${MAX_CONNECTIONS}\nhandshake_timeout_ms = ${HANDSHAKE_MS}\n`,
    );
    acks = await AckWatcher.connect(broker.url, 'filament/v1', 5);
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(ruleSet('acme', 1)),
    });
    sidecar = startSidecarProcess(
      sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: join(dir.path, 's') }),
    );
    await acks.next((a) => a.activeVersion === 1 && a.persisted);
  });
  afterAll(async () => {
    await sidecar?.kill('SIGKILL');
    await acks?.close();
    await broker?.stop();
    await dir?.remove();
  });

  test('keeps its descriptors, applies and persists rules, and answers health and /metrics', async () => {
    const baseline = fdCount(sidecar.pid);
    const metrics = await metricsUrl(sidecar);
    const clients: Socket[] = [];
    const opened = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const c = connect(socket);
        c.on('error', () => {});
        c.once('connect', () => c.write(HALF_PREFACE));
        clients.push(c);
        if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await opened(2_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const peak = fdCount(sidecar.pid);
    // The cap holds however many come (each accepted connection is one descriptor).
    expect(peak - baseline).toBeLessThanOrEqual(MAX_CONNECTIONS + 8);
    // Rules keep being applied and persisted during the flood.
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(ruleSet('acme', 2)),
    });
    expect(await acks.next((a) => a.activeVersion === 2)).toMatchObject({
      status: 'applied',
      persisted: true,
    });
    // The half-open ones are dropped after the handshake time-out; then a real client gets in.
    await waitFor(
      () => (fdCount(sidecar.pid) - baseline <= 4 ? true : undefined),
      'the half-open connections dropped',
      HANDSHAKE_MS * 5,
    );
    const client = grpcClients(`unix:${socket}`);
    expect((await client.check('')).status).toBe('SERVING');
    client.close();
    const text = await (await fetch(metrics)).text();
    const refused = (reason: string) =>
      Number(
        new RegExp(
          `^filament_api_connections_refused_total\\{listener="unix:[^"]+",reason="${reason}"\\} (\\d+)`,
          'm',
        ).exec(text)?.[1] ?? 0,
      );
    expect(refused('too_many_connections')).toBeGreaterThan(1_000);
    expect(refused('handshake_timeout')).toBeGreaterThanOrEqual(MAX_CONNECTIONS - 8);
    await sidecar.waitForLog((l) => l.msg === 'API connection refused', 'the log line');
    for (const c of clients) c.destroy();
  }, 60_000);
});
