import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AckWatcher } from '../../src/demo/index.ts';
import { StateStore } from '../../src/last-known-good/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, largeRuleSet, ruleSet } from '../helpers/rule-sets.ts';
import {
  metricsUrl,
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

// Found by an outside probe (issue 11, finding 4): on a full disk the version floor on disk fell
// behind what was applied, and after a restart an older version was accepted again.

const PREFIX = 'filament/v1';
const TENANT = 'acme';
const isRoot = process.getuid?.() === 0;
// A size-limited state directory needs a tmpfs mount, so root. CI runs as root; elsewhere say so.
const skip = !isRoot && !process.env.CI;
if (skip) console.warn('disk-full tests not run: mounting a small tmpfs needs root');

describe.skipIf(skip)(
  `a full state directory${skip ? ' [skipped: needs root to mount a tmpfs]' : ''}`,
  () => {
    let broker: MosquittoBroker;
    let dir: { path: string; remove(): Promise<void> };
    let mount: string;
    let acks: AckWatcher;
    let running: SidecarProcess | undefined;

    beforeAll(async () => {
      dir = await tempDir();
      mount = join(dir.path, 'state');
      await mkdir(mount);
      const mounted = spawnSync(
        'mount',
        ['-t', 'tmpfs', '-o', 'size=512k,mode=0755', 'tmpfs', mount],
        {
          encoding: 'utf8',
        },
      );
      if (mounted.status !== 0) throw new Error(`cannot mount a tmpfs: ${mounted.stderr}`);
      broker = await startMosquitto();
      acks = await AckWatcher.connect(broker.url, PREFIX, 5);
    });
    afterEach(async () => {
      await running?.kill('SIGKILL');
      running = undefined;
      await rm(join(mount, 'filler'), { force: true });
    });
    afterAll(async () => {
      await acks?.close();
      await broker?.stop();
      spawnSync('umount', [mount]);
      await dir?.remove();
    });

    const publish = (version: number, objectives = 0) =>
      publishOnce({
        url: broker.url,
        topic: rulesTopic(PREFIX, TENANT),
        // A set of 1,000 objectives (≈ 200 KB) does not fit in what freeing the reserve leaves.
        payload: jsonBytes(
          objectives > 0 ? largeRuleSet(TENANT, version, objectives) : ruleSet(TENANT, version),
        ),
        contentType: 'application/json',
      });
    const ack = (version: number, persisted: boolean) =>
      acks.next(
        (a) =>
          a.receivedVersion === version && a.activeVersion === version && a.persisted === persisted,
      );
    /** Fills the tmpfs to the last byte; returns the filler's path. */
    async function fillDisk(): Promise<string> {
      const filler = join(mount, 'filler');
      const handle = await open(filler, 'w');
      const chunk = new Uint8Array(4096);
      try {
        for (;;) await handle.write(chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      } finally {
        await handle.close();
      }
      return filler;
    }
    const start = () =>
      startSidecarProcess([
        ...sidecarArgs({
          brokers: [broker.url],
          tenant: TENANT,
          replica: 'host-1',
          stateDir: mount,
        }),
        '--grpc-socket',
        join(dir.path, 'api.sock'),
      ]);

    test('an unpersisted set is said so everywhere, retried, and persisted once there is room', async () => {
      running = start();
      await publish(1);
      await ack(1, true);
      const filler = await fillDisk();
      await publish(2, 1000);
      const unsaved = await ack(2, false).catch((error: Error) => {
        throw new Error(`${error.message}; log: ${JSON.stringify(running?.logs.slice(-12))}`);
      });
      expect(unsaved.reason).toContain('ENOSPC');
      const status = await cli('status', '--socket', join(dir.path, 'api.sock'));
      expect(status.out).toContain('disk    NOT PERSISTED: acme v2');
      const metrics = await metricsUrl(running);
      const scrape = async () => (await fetch(metrics)).text();
      expect(await scrape()).toContain('filament_rules_persisted{tenant="acme"} 0');
      // The floor reached the disk even though the set could not.
      expect((await new StateStore(mount).load(TENANT)).highWater).toBe(2);
      await rm(filler);
      const saved = await ack(2, true).catch((error: Error) => {
        const lines = running?.logs.filter((l) => l.subsystem === 'rules').slice(-8);
        throw new Error(`${error.message}; rules log: ${JSON.stringify(lines)}`);
      });
      expect(saved.status).toBe('applied');
      expect(saved.reason).toBeUndefined();
      expect((await new StateStore(mount).load(TENANT)).record?.header.version).toBe(2);
      await waitFor(
        async () =>
          (await scrape()).includes('filament_rules_persisted{tenant="acme"} 1') ? true : undefined,
        'the gauge back at 1',
      );
      expect((await cli('status', '--socket', join(dir.path, 'api.sock'))).out).toContain(
        'disk    last-known-good up to date',
      );
      expect(await running.kill('SIGTERM')).toBe(0);
      running = undefined;
    }, 60_000);

    test('after a disk-full episode and a restart, no version older than the newest applied is accepted', async () => {
      running = start();
      await publish(3);
      await ack(3, true);
      await fillDisk();
      await publish(5, 1000);
      await ack(5, false);
      await publish(6, 1000);
      await ack(6, false);
      expect(await running.kill('SIGKILL')).toBe('SIGKILL');
      const onDisk = await new StateStore(mount).load(TENANT);
      expect(onDisk.record?.header.version).toBe(3);
      expect(onDisk.highWater).toBe(6);
      // No retained set to catch up from: only the disk remembers v6. Older v4 and v5 stay refused.
      await publishOnce({
        url: broker.url,
        topic: rulesTopic(PREFIX, TENANT),
        payload: new Uint8Array(),
      });
      running = start();
      await running.waitForLog((l) => l.msg === 'sidecar started', 'restart');
      await publish(4);
      const refused = await acks.next((a) => a.receivedVersion === 4);
      expect(refused).toMatchObject({
        status: 'rejected',
        code: 'VERSION_REGRESSION',
        activeVersion: 3,
      });
      await publish(5);
      expect(await acks.next((a) => a.receivedVersion === 5)).toMatchObject({
        code: 'VERSION_REGRESSION',
      });
      expect(await running.kill('SIGTERM')).toBe(0);
      running = undefined;
    }, 60_000);

    test('a state directory that turns read-only: served, said so, and written once it can be', async () => {
      await publish(10);
      running = start();
      await ack(10, true);
      const remount = (mode: 'ro' | 'rw') =>
        spawnSync('mount', ['-o', `remount,${mode}`, mount], { encoding: 'utf8' });
      expect(remount('ro').status).toBe(0);
      try {
        await publish(11);
        const unsaved = await ack(11, false);
        expect(unsaved.reason).toMatch(/EROFS|read-only/i);
      } finally {
        expect(remount('rw').status).toBe(0);
      }
      await ack(11, true);
      expect((await new StateStore(mount).load(TENANT)).record?.header.version).toBe(11);
      expect(await running.kill('SIGTERM')).toBe(0);
      running = undefined;
    }, 60_000);
  },
);
