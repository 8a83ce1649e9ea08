import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// Found by an outside probe (issue 11, finding 5): two sidecars with one replica name (so one MQTT
// client id) kicked each other off 37 times in 12 s, logging only "disconnected from broker".

describe('two sidecars with the same replica name', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  const running: SidecarProcess[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir();
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    await broker?.stop();
    await dir?.remove();
  });

  test('say the session was taken over, naming the client id, count it, and back off hard', async () => {
    const start = (name: string) => {
      const p = startSidecarProcess([
        ...sidecarArgs({
          brokers: [broker.url],
          tenant: 'acme',
          replica: 'gpu-host-7',
          stateDir: join(dir.path, name),
        }),
        '--grpc-socket',
        join(dir.path, `${name}.sock`),
      ]);
      running.push(p);
      return p;
    };
    const a = start('a');
    await a.waitForLog((l) => l.msg === 'connected to broker', 'a connected');
    const b = start('b');
    const observeMs = 8_000;
    await new Promise((resolve) => setTimeout(resolve, observeMs));
    const connects = [...a.logs, ...b.logs].filter((l) => l.msg === 'connected to broker').length;
    // Before: a connect/disconnect cycle every ≈ 0.2 s (49 in 8 s, measured). Now a few quick
    // cycles until five short-lived connections in a row that resumed our session show the
    // take-over (mosquitto 2.0 closes the old connection without MQTT 5's reason 0x8E; a flapping
    // broker must not be mistaken for it), then 5 s, 10 s, … apart.
    expect(connects).toBeLessThanOrEqual(16);
    const lastSeconds = [...a.logs, ...b.logs].filter(
      (l) => l.msg === 'connected to broker' && Date.parse(String(l.time)) > Date.now() - 4_000,
    );
    expect(lastSeconds.length).toBeLessThanOrEqual(2);
    const errors = [...a.logs, ...b.logs].filter(
      (l) => l.msg === 'session taken over by another client with our client id',
    );
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ level: 'error', clientId: 'filament-gpu-host-7' });
    expect(errors[0]?.retryInMs as number).toBeGreaterThanOrEqual(4_000);
    expect(String(errors[0]?.hint)).toContain('replica name');
    const metricsOf = async (p: SidecarProcess) => {
      return (await fetch(await metricsUrl(p))).text();
    };
    const counted = [await metricsOf(a), await metricsOf(b)].map((text) =>
      Number(/^filament_broker_session_takeovers_total (\d+)/m.exec(text)?.[1] ?? 'NaN'),
    );
    expect(counted.reduce((x, y) => x + y, 0)).toBe(errors.length);
  }, 30_000);
});
