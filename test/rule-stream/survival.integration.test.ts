import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { AckWatcher } from '../../src/demo/index.ts';
import { freePort, type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const PREFIX = 'filament/v1';

describe('surviving restarts, crashes and foreign publishers (mosquitto)', () => {
  let broker: MosquittoBroker;
  let watcher: AckWatcher;
  let work: { path: string; remove(): Promise<void> };
  const running: SidecarProcess[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    watcher = await AckWatcher.connect(broker.url, PREFIX, 5);
    work = await tempDir();
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    await watcher.close();
    await broker.stop();
    await work.remove();
  });

  const sidecar = (tenant: string, brokers: string[] = [broker.url]) => {
    const process = startSidecarProcess(
      sidecarArgs({ brokers, tenant, replica: `r-${tenant}`, stateDir: join(work.path, tenant) }),
    );
    running.push(process);
    return process;
  };
  const publish = (tenant: string, payload: Uint8Array, contentType?: string) =>
    publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, tenant),
      payload,
      ...(contentType ? { contentType } : {}),
    });
  const ackFor = (tenant: string, version: number, status = 'applied') =>
    watcher.next(
      (a) => a.tenant === tenant && a.receivedVersion === version && a.status === status,
    );

  test('applies a rule set published with mosquitto_pub', async () => {
    const tenant = 'foreign';
    const file = join(work.path, 'foreign.json');
    await writeFile(file, JSON.stringify(ruleSet(tenant, 9), null, 2));
    const p = sidecar(tenant);
    await p.waitForLog((l) => l.msg === 'subscribed', 'subscription');
    const pub = spawnSync('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.port),
      '-t',
      rulesTopic(PREFIX, tenant),
      '-q',
      '1',
      '-r',
      '-f',
      file,
    ]);
    expect(pub.status).toBe(0);
    expect(await ackFor(tenant, 9)).toMatchObject({ activeVersion: 9, persisted: true });
    await p.kill();
  });

  test('takes MessagePack by its MQTT 5 content type, and treats the same set in JSON as unchanged', async () => {
    const tenant = 'packed';
    const p = sidecar(tenant);
    await p.waitForLog((l) => l.msg === 'subscribed', 'subscription');
    await publish(tenant, pack(ruleSet(tenant, 2)), 'application/msgpack');
    expect(await ackFor(tenant, 2)).toMatchObject({ activeVersion: 2 });
    await publish(tenant, jsonBytes(ruleSet(tenant, 2)), 'application/json');
    expect(await ackFor(tenant, 2, 'unchanged')).toMatchObject({ activeVersion: 2 });
    await publish(
      tenant,
      jsonBytes(ruleSet(tenant, 2, { description: 'edited without a new version' })),
    );
    expect(await ackFor(tenant, 2, 'rejected')).toMatchObject({
      code: 'VERSION_CONFLICT',
      activeVersion: 2,
    });
    await p.kill();
  });

  test('after kill -9 right after a publish, comes back with the last applied version with the broker down', async () => {
    const tenant = 'crashy';
    const mine = await startMosquitto();
    const p = startSidecarProcess(
      sidecarArgs({ brokers: [mine.url], tenant, stateDir: join(work.path, tenant) }),
    );
    running.push(p);
    await p.waitForLog((l) => l.msg === 'subscribed', 'subscription');
    const watcher = await AckWatcher.connect(mine.url, PREFIX, 5);
    for (const version of [1, 2, 3]) {
      await publishOnce({
        url: mine.url,
        topic: rulesTopic(PREFIX, tenant),
        payload: jsonBytes(ruleSet(tenant, version)),
      });
    }
    // The ACK is published only once v3 is durable; kill the moment it shows.
    await watcher.next(
      (a) => a.tenant === tenant && a.receivedVersion === 3 && a.status === 'applied',
    );
    expect(await p.kill('SIGKILL')).toBe('SIGKILL');
    await watcher.close();
    await mine.stop();

    const again = startSidecarProcess(
      sidecarArgs({ brokers: [mine.url], tenant, stateDir: join(work.path, tenant) }),
    );
    running.push(again);
    const restored = await again.waitForLog(
      (l) => l.msg === 'restored last-known-good rules',
      'the restore',
    );
    expect(restored).toMatchObject({ version: 3, from: 'current' });
    await again.waitForLog((l) => l.msg === 'sidecar started', 'start-up without a broker');
    expect(await again.kill()).toBe(0);
  });

  test('survives a corrupted state file: falls back to the previous copy and keeps the high-water version', async () => {
    const tenant = 'corrupt';
    const p = sidecar(tenant);
    await p.waitForLog((l) => l.msg === 'subscribed', 'subscription');
    await publish(tenant, jsonBytes(ruleSet(tenant, 1)));
    await ackFor(tenant, 1);
    await publish(tenant, jsonBytes(ruleSet(tenant, 3)));
    await ackFor(tenant, 3);
    await p.kill();

    const current = join(work.path, tenant, 'rules', `${tenant}.state`);
    const bytes = await readFile(current);
    await writeFile(current, bytes.subarray(0, bytes.byteLength - 7));
    // While the host is down, someone retains v2: newer than the copy left on disk, older than v3.
    await publish(tenant, jsonBytes(ruleSet(tenant, 2)));

    const q = sidecar(tenant);
    const warn = await q.waitForLog(
      (l) => l.msg === 'state file unusable',
      'the corruption warning',
    );
    expect(String(warn.problem)).toContain('truncated');
    const restored = await q.waitForLog(
      (l) => l.msg === 'restored last-known-good rules',
      'the fallback restore',
    );
    expect(restored).toMatchObject({ version: 1, from: 'previous' });
    // The high-water v3 survived the corruption, so v2 is refused although it is above v1.
    expect(await ackFor(tenant, 2, 'rejected')).toMatchObject({
      code: 'VERSION_REGRESSION',
      activeVersion: 1,
    });
    await publish(tenant, jsonBytes(ruleSet(tenant, 3)));
    expect(await ackFor(tenant, 3)).toMatchObject({ activeVersion: 3 });
    await q.kill();

    await writeFile(current, 'garbage');
    await writeFile(`${current}.prev`, 'more garbage');
    const r = sidecar(tenant);
    await r.waitForLog(
      (l) => l.msg === 'no usable last-known-good rules; starting without rules',
      'the no-rules line',
    );
    expect(await ackFor(tenant, 3)).toMatchObject({ activeVersion: 3 });
    await r.kill();
  });

  test('fails over to the next broker URL when the first is unreachable', async () => {
    const dead = `mqtt://127.0.0.1:${await freePort()}`;
    const tenant = 'failover';
    await publish(tenant, jsonBytes(ruleSet(tenant, 4)));
    const p = sidecar(tenant, [dead, broker.url]);
    const connected = await p.waitForLog((l) => l.msg === 'connected to broker', 'a connection');
    expect(connected.url).toBe(broker.url);
    expect(await ackFor(tenant, 4)).toMatchObject({ activeVersion: 4 });
    await p.kill();
  });

  test('exits 0 on SIGTERM after disconnecting cleanly', async () => {
    const p = sidecar('stopper');
    await p.waitForLog((l) => l.msg === 'subscribed', 'subscription');
    expect(await p.kill('SIGTERM')).toBe(0);
    expect(p.logs.some((l) => l.msg === 'sidecar stopped')).toBe(true);
  });
});
