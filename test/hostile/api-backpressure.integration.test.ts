import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as http2 from 'node:http2';
import { connect } from 'node:net';
import { join } from 'node:path';
import { encodeMessage } from '../../src/api/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';
import { waitFor } from '../helpers/wait.ts';

// Found by an outside probe (issue 11, finding 1): a client that never read its ValidateStream
// responses while sending batches took the sidecar from 92 MB to 1.19 GB in 50 s.

const STALL_MS = 1500;

/** A gRPC message frame: flag byte 0, big-endian length, the protobuf bytes. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

describe('a streaming client that never reads', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let socket: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir();
    socket = join(dir.path, 'api.sock');
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      `[api]\nsocket = "${socket}"\nstream_stall_ms = ${STALL_MS}\n[[models]]\nid = "llama"\nversion = "2026-10-01"\n`,
    );
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(validationRuleSet(1)),
    });
    sidecar = startSidecarProcess(
      sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: join(dir.path, 's') }),
    );
    await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'rules');
  });
  afterAll(async () => {
    await sidecar?.kill('SIGKILL');
    await broker?.stop();
    await dir?.remove();
  });

  test('is slowed by flow control, then reset with RESOURCE_EXHAUSTED; memory stays flat', async () => {
    const before = rssMb(sidecar.pid);
    // Receive window 0: the sidecar can never send this client a response byte.
    const session = http2.connect('http://localhost', {
      createConnection: () => connect(socket),
      settings: { initialWindowSize: 0 },
    });
    const stream = session.request({
      ':method': 'POST',
      ':path': '/filament.v1.Sidecar/ValidateStream',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const closed = new Promise<number>((resolve) =>
      stream.on('close', () => resolve(stream.rstCode ?? -1)),
    );
    // The reset arrives as a stream error naming its code (Bun's client leaves rstCode at 0).
    let resetBy = '';
    stream.on('error', (error) => (resetBy = String(error)));
    let ended = false;
    void closed.then(() => (ended = true));
    let sent = 0;
    const batch = Array(64).fill({ config: VALID_CONFIG_MESSAGE });
    const deadline = Date.now() + 15_000;
    while (!ended && Date.now() < deadline) {
      const ok = stream.write(
        frame(encodeMessage('filament.v1.ValidateStreamRequest', { id: sent, batch })),
      );
      sent++;
      if (!ok)
        await Promise.race([
          new Promise((resolve) => stream.once('drain', resolve)),
          new Promise((resolve) => setTimeout(resolve, 200)),
          closed,
        ]);
    }
    const rstCode = await Promise.race([
      closed,
      new Promise<number>((r) => setTimeout(() => r(-2), 5000)),
    ]);
    session.destroy();
    // ENHANCE_YOUR_CALM is what gRPC clients report as RESOURCE_EXHAUSTED.
    expect(
      rstCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM ||
        resetBy.includes('NGHTTP2_ENHANCE_YOUR_CALM'),
    ).toBe(true);
    expect(sent).toBeLessThan(1000);
    const growth = rssMb(sidecar.pid) - before;
    expect(growth).toBeLessThan(32);
    await sidecar.waitForLog(
      (l) => l.msg === 'stream cancelled: the client stopped reading its responses',
      'the log line',
    );
    const metrics = await metricsUrl(sidecar);
    await waitFor(async () => {
      const text = await (await fetch(metrics)).text();
      return text.includes(
        'filament_api_streams_cancelled_total{method="ValidateStream",reason="client_not_reading"} 1',
      )
        ? true
        : undefined;
    }, 'the metric');
    // Still serving, and a well-behaved stream still flows.
    const client = grpcClients(`unix:${socket}`);
    expect((await client.check('')).status).toBe('SERVING');
    client.close();
    console.log(`sent ${sent} batches before being held back; RSS grew ${growth.toFixed(1)} MB`);
  }, 40_000);

  test('a WatchSaturation client that never reads is reset too, and the reports go on', async () => {
    const session = http2.connect('http://localhost', {
      createConnection: () => connect(socket),
      settings: { initialWindowSize: 0 },
    });
    session.on('error', () => {});
    const watch = session.request({
      ':method': 'POST',
      ':path': '/filament.v1.Sidecar/WatchSaturation',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let resetBy = '';
    watch.on('error', (error) => (resetBy = String(error)));
    const closed = new Promise<void>((resolve) => watch.on('close', () => resolve()));
    watch.end(frame(encodeMessage('filament.v1.WatchSaturationRequest', {})));
    // Make reports: alternate idle and full queues over ReportLoad (a state change each time).
    const client = grpcClients(`unix:${socket}`);
    const pusher = client.sidecar as unknown as {
      ReportLoad(cb: (e: unknown) => void): { write(m: object): void; end(): void };
    };
    const push = pusher.ReportLoad(() => {});
    let reset = false;
    void closed.then(() => (reset = true));
    for (let i = 0; i < 400 && !reset; i++) {
      push.write({ queue: i % 2 === 0 ? 1000 : 0 });
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    push.end();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
    session.destroy();
    expect(resetBy).toContain('NGHTTP2_ENHANCE_YOUR_CALM');
    await sidecar.waitForLog(
      (l) =>
        l.msg === 'stream cancelled: the client stopped reading its responses' &&
        l.method === 'WatchSaturation',
      'the WatchSaturation reset',
    );
    expect((await client.check('')).status).toBe('SERVING');
    client.close();
  }, 60_000);
});
