import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { ApiBindError, ApiServer, HealthState, prepareSocketPath } from '../../src/api/index.ts';
import { RuleStore } from '../../src/rules/index.ts';
import { collect, grpcClients } from '../helpers/grpc-clients.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const backend = {
  validate: () => ({ ok: false as const, code: 'INVALID_ARGUMENT' as const, message: 'unused' }),
  snapshot: () => {
    throw new Error('unused');
  },
  onChange: () => () => {},
  pushLoad: () => {},
  declareModels: () => ({ ok: false as const, message: 'not here' }),
  saturation: () => null,
  onSaturation: () => () => {},
};

describe('the API socket', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('filament-sock-');
  });
  afterEach(() => dir.remove());

  const server = (socketPath: string, health = new HealthState(new RuleStore(1), ['acme'])) =>
    new ApiServer({ socketPath, tcpListen: null, backend, health });

  test('is created with mode 0660 and removed on stop', async () => {
    const path = join(dir.path, 'run', 'filament.sock');
    const api = server(path);
    await api.start();
    expect((await stat(path)).mode & 0o777).toBe(0o660);
    await api.stop();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('a second instance fails clearly and leaves the live socket alone', async () => {
    const path = join(dir.path, 'filament.sock');
    const first = server(path);
    await first.start();
    const second = server(path);
    const error = await second.start().catch((e) => e);
    expect(error).toBeInstanceOf(ApiBindError);
    expect(String(error.message)).toContain(`another process is already serving on ${path}`);
    await second.stop();
    const client = grpcClients(`unix:${path}`);
    expect(await client.check('')).toEqual({ status: 'NOT_SERVING' });
    client.close();
    await first.stop();
  });

  test('a stale socket left by a crash is replaced', async () => {
    const path = join(dir.path, 'filament.sock');
    // A process that listens on the socket and is killed with SIGKILL leaves the file behind.
    const listener = spawn(
      process.execPath,
      [
        '-e',
        `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise((resolve) => listener.stdout.once('data', resolve));
    listener.kill('SIGKILL');
    await new Promise((resolve) => listener.once('exit', resolve));
    expect((await stat(path)).isSocket()).toBe(true);
    const api = server(path);
    await api.start();
    const client = grpcClients(`unix:${path}`);
    expect(await client.check('')).toEqual({ status: 'NOT_SERVING' });
    client.close();
    await api.stop();
  });

  test('a regular file in the way is refused, not deleted', async () => {
    const path = join(dir.path, 'filament.sock');
    await writeFile(path, 'precious');
    await expect(prepareSocketPath(path)).rejects.toThrow('exists and is not a socket');
    expect((await stat(path)).isFile()).toBe(true);
  });

  test('on stop, health watchers see NOT_SERVING and their stream ends', async () => {
    const path = join(dir.path, 'filament.sock');
    const store = new RuleStore(1);
    const health = new HealthState(store, []);
    const api = server(path, health);
    await api.start();
    const client = grpcClients(`unix:${path}`);
    const stream = (
      client.health as unknown as {
        Watch(r: object): grpc.ClientReadableStream<{ status: string }>;
      }
    ).Watch({ service: '' });
    const statuses = collect(stream, 2);
    const ended = new Promise((resolve) => stream.on('status', resolve));
    await new Promise((r) => setTimeout(r, 50));
    health.markStopping();
    expect((await statuses).map((s) => s.status)).toEqual(['SERVING', 'NOT_SERVING']);
    await api.stop();
    expect(await ended).toMatchObject({ code: 0 });
    client.close();
  });
});
