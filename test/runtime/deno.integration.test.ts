import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AckWatcher } from '../../src/demo/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = join(import.meta.dir, '..', '..');
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const deno = (...args: string[]) => [
  'run',
  '--allow-all',
  '--quiet',
  join(ROOT, 'src', 'main.ts'),
  ...args,
];

describe('the same sources on Deno', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir();
  });
  afterAll(async () => {
    await broker.stop();
    await dir.remove();
  });

  test('lint a TypeScript-authored rule set', () => {
    const lint = spawnSync(
      DENO,
      deno('rules', 'lint', join(ROOT, 'examples', 'rules', 'acme.v2.ts')),
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(lint.stderr).toBe('');
    expect(lint.stdout).toContain('tenant acme version 2');
  });

  test('follow the rule stream, ACK, and stop cleanly on SIGTERM', async () => {
    const watcher = await AckWatcher.connect(broker.url, 'filament/v1', 5);
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'deno'),
      payload: jsonBytes(ruleSet('deno', 4)),
    });
    const child: ChildProcess = spawn(
      DENO,
      deno(
        'run',
        '--broker',
        broker.url,
        '--tenant',
        'deno',
        '--replica',
        'deno-host',
        '--cluster',
        'gpu-east',
        '--state-dir',
        dir.path,
      ),
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let logs = '';
    child.stderr?.on('data', (chunk) => {
      logs += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    expect(await watcher.next((a) => a.tenant === 'deno' && a.receivedVersion === 4)).toMatchObject(
      { status: 'applied', replica: 'deno-host' },
    );
    await waitFor(
      () => (logs.includes('"msg":"subscribed"') ? true : undefined),
      'the subscription log',
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logs).toContain('"msg":"sidecar stopped"');
    await watcher.close();
  });
});
