import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { StateStore } from '../../src/last-known-good/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { rulesTopic } from '../../src/mqtt/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** 20 in CI; `KILL_LOOP_ITERATIONS=500 bun test test/rule-stream/kill-loop.integration.test.ts` for a long run. */
const ITERATIONS = Number(process.env.KILL_LOOP_ITERATIONS ?? 20);
/** The test's deadline grows with the count: a start, a few applies and a kill take ≈ 1–3 s. */
const DEADLINE_MS = 60_000 + ITERATIONS * 6_000;
const PREFIX = 'filament/v1';
const TENANT = 'acme';

describe('kill -9 in a loop while rule sets are published continuously (mosquitto)', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: MosquittoBroker;
  let publisher: mqtt.MqttClient;
  let acks: mqtt.MqttClient;
  let published = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  /** Highest version a sidecar ACKed as applied and persisted. */
  let durable = 0;

  beforeAll(async () => {
    dir = await tempDir('filament-kill-loop-');
    broker = await startMosquitto();
    publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, writeCache: false });
    acks = await mqtt.connectAsync(broker.url, { protocolVersion: 5, writeCache: false });
    acks.on('message', (_topic, payload) => {
      const ack = JSON.parse(String(payload));
      if (ack.status === 'applied' && ack.persisted) durable = Math.max(durable, ack.activeVersion);
    });
    await acks.subscribeAsync(`${PREFIX}/acks/${TENANT}/+`, { qos: 1 });
    // A new version every 15 ms, retained, for the whole test.
    timer = setInterval(() => {
      published++;
      publisher.publish(
        rulesTopic(PREFIX, TENANT),
        Buffer.from(jsonBytes(ruleSet(TENANT, published))),
        {
          qos: 1,
          retain: true,
        },
      );
    }, 15);
  });
  afterAll(async () => {
    clearInterval(timer);
    await publisher?.endAsync();
    await acks?.endAsync();
    await broker?.stop();
    await dir?.remove();
  });

  test(
    `${ITERATIONS} crashes: no version lost or lowered, state never corrupt, the socket answers`,
    async () => {
      const stateDir = join(dir.path, 'state');
      const socket = join(dir.path, 'api.sock');
      const config = join(dir.path, 'filament.toml');
      await writeFile(config, `[api]\nsocket = "${socket}"\n[saturation]\nnvidia_smi = "off"\n`);
      const store = new StateStore(stateDir);
      let restoredBefore = 0;
      let lastPid = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const durableAtKill = durable;
        const sidecar = startSidecarProcess(
          sidecarArgs({
            config,
            brokers: [broker.url],
            tenant: TENANT,
            replica: 'crashy',
            stateDir,
          }),
        );
        // Back up with what the last run made durable: never less, never from a corrupt file.
        await sidecar.waitForLog((l) => l.msg === 'sidecar started', `start ${i}`, 15_000);
        const restored = sidecar.logs.find((l) => l.msg === 'restored last-known-good rules');
        if (i > 0) {
          expect(restored?.from).toBe('current');
          expect(restored?.version as number).toBeGreaterThanOrEqual(durableAtKill);
          expect(restored?.version as number).toBeGreaterThanOrEqual(restoredBefore);
          restoredBefore = restored?.version as number;
        }
        // The unix socket answers promptly.
        const client = grpcClients(`unix:${socket}`);
        const answered = await Promise.race([
          client.check('').then((h) => h.status),
          new Promise((resolve) => setTimeout(() => resolve('no answer within 3 s'), 3000)),
        ]);
        client.close();
        // SERVING from the restored rules, before the broker is even reached (the first run starts
        // with none: NOT_SERVING until its first set arrives, which may already have happened;
        // either way it answers).
        if (i === 0) expect(['NOT_SERVING', 'SERVING']).toContain(answered as string);
        else expect(answered).toBe('SERVING');
        // Let it apply a few newer versions, then kill it at an arbitrary moment.
        const target = published + 3;
        await sidecar.waitForLog(
          (l) => l.msg === 'applied rule set' && (l.version as number) >= target,
          `newer versions in run ${i}`,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 60));
        expect(await sidecar.kill('SIGKILL')).toBe('SIGKILL');
        lastPid = sidecar.pid;

        const loaded = await store.load(TENANT);
        expect(loaded.problems).toEqual([]);
        expect(loaded.source).toBe('current');
        expect(loaded.record?.header.version as number).toBeGreaterThanOrEqual(durable);
        expect(loaded.highWater).toBeGreaterThanOrEqual(loaded.record?.header.version as number);
      }
      expect(restoredBefore).toBeGreaterThan(0);
      // Crashes mid-write leave temporary files; each start removes its dead predecessors'. What
      // is left can only be the last run's, killed with no successor yet: at most its state
      // write, the link of the previous copy being made beside it, and the version floor's.
      const temporaries = (await readdir(join(stateDir, 'rules'))).filter((f) =>
        f.includes('.tmp-'),
      );
      expect(temporaries.length).toBeLessThanOrEqual(3);
      for (const name of temporaries) expect(name).toContain(`.tmp-${lastPid}.`);
    },
    DEADLINE_MS,
  );
});
