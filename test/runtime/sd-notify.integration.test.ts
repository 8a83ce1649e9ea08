import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { createNotifier, watchdogIntervalMs } from '../../src/runtime/index.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

/** A unix datagram socket played by `socat`, standing in for systemd's notification socket. */
async function notifySocket(address: string) {
  const spec = address.startsWith('@')
    ? `ABSTRACT-RECV:${address.slice(1)}`
    : `UNIX-RECV:${address}`;
  const socat = spawn('socat', ['-u', spec, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = '';
  socat.stdout.on('data', (chunk) => {
    received += String(chunk);
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // socat binds at start
  return {
    received: () => received,
    waitFor: (text: string) =>
      waitFor(() => (received.includes(text) ? true : undefined), `"${text}" on the socket`),
    stop: () => socat.kill(),
  };
}

describe('watchdogIntervalMs', () => {
  test('reads WATCHDOG_USEC in milliseconds, for this process only', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' })).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '500000', WATCHDOG_PID: '42' }, 42)).toBe(500);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '500000', WATCHDOG_PID: '41' }, 42)).toBeNull();
    expect(watchdogIntervalMs({})).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' })).toBeNull();
  });
});

describe('createNotifier', () => {
  test('is inactive without NOTIFY_SOCKET', async () => {
    const notifier = await createNotifier({});
    expect(notifier.active).toBe(false);
    expect(notifier.send('READY=1')).toBe(false);
  });

  test('sends datagrams to a path socket and an abstract one', async () => {
    const dir = await tempDir('filament-notify-');
    for (const address of [join(dir.path, 'notify.sock'), `@filament-test-${process.pid}`]) {
      const socket = await notifySocket(address);
      const notifier = await createNotifier({ NOTIFY_SOCKET: address });
      expect(notifier.active).toBe(true);
      expect(notifier.send('READY=1\nSTATUS=warming up')).toBe(true);
      await socket.waitFor('STATUS=warming up');
      notifier.close();
      expect(notifier.send('WATCHDOG=1')).toBe(false);
      socket.stop();
    }
    await dir.remove();
  });

  test('RELOADING=1 carries CLOCK_MONOTONIC in microseconds', async () => {
    const dir = await tempDir('filament-notify-');
    const socket = await notifySocket(join(dir.path, 'notify.sock'));
    const notifier = await createNotifier({ NOTIFY_SOCKET: join(dir.path, 'notify.sock') });
    expect(notifier.reloading()).toBe(true);
    await socket.waitFor('MONOTONIC_USEC=');
    const micros = Number(/MONOTONIC_USEC=(\d+)/.exec(socket.received())?.[1]);
    // CLOCK_MONOTONIC never runs ahead of CLOCK_BOOTTIME (/proc/uptime), and is not process time.
    const bootMicros = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]) * 1e6;
    expect(micros).toBeLessThanOrEqual(bootMicros + 1e6);
    expect(micros).toBeGreaterThan(process.uptime() * 1e6);
    notifier.close();
    socket.stop();
    await dir.remove();
  });

  test('reports failure, not an exception, when nobody listens', async () => {
    const dir = await tempDir('filament-notify-');
    const notifier = await createNotifier({ NOTIFY_SOCKET: join(dir.path, 'absent.sock') });
    expect(notifier.send('READY=1')).toBe(false);
    notifier.close();
    await dir.remove();
  });
});

describe('filament run under systemd (Type=notify)', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  test('READY=1 once started, watchdog pings, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM', async () => {
    const dir = await tempDir('filament-notify-');
    const socket = await notifySocket(join(dir.path, 'notify.sock'));
    const sidecar = startSidecarProcess(
      sidecarArgs({ brokers: [broker.url], tenant: 'acme', stateDir: dir.path }),
      { NOTIFY_SOCKET: join(dir.path, 'notify.sock'), WATCHDOG_USEC: '200000' },
    );
    await socket.waitFor('READY=1');
    expect(socket.received()).toContain('STATUS=following 1 tenant(s)');
    // READY=1 comes only after start-up: the sidecar's start log line is already out.
    expect(sidecar.logs.some((l) => l.msg === 'sidecar started')).toBe(true);
    await waitFor(
      () => (socket.received().split('WATCHDOG=1').length > 3 ? true : undefined),
      'three watchdog pings at 100 ms',
    );
    process.kill(sidecar.pid, 'SIGHUP');
    await socket.waitFor('RELOADING=1');
    await waitFor(
      () => (socket.received().split('READY=1').length > 2 ? true : undefined),
      'READY=1 again after the reload',
    );
    expect(socket.received()).not.toContain('STOPPING=1');
    expect(await sidecar.kill('SIGTERM')).toBe(0);
    await socket.waitFor('STOPPING=1');
    socket.stop();
    await dir.remove();
  });
});
