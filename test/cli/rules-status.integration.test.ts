import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AckWatcher } from '../../src/demo/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let broker: Awaited<ReturnType<typeof startMosquitto>>;
let dir: Awaited<ReturnType<typeof tempDir>>;
let acks: AckWatcher;
const sidecars = new Map<string, SidecarProcess>();
const v1 = jsonBytes(ruleSet('acme', 1));
// v2 is issued two minutes ahead of this clock: r3 allows 30 s of skew and NACKs it.
const v2 = jsonBytes(
  ruleSet('acme', 2, { issuedAt: new Date(Date.now() + 120_000).toISOString() }),
);
/** Sends a signal without waiting for the process to end (SIGSTOP, SIGCONT). */
const signal = (replica: string, name: NodeJS.Signals) => {
  const pid = sidecars.get(replica)?.pid;
  if (pid !== undefined) process.kill(pid, name);
};
const publish = (bytes: Uint8Array) =>
  publishOnce({ url: broker.url, topic: rulesTopic('filament/v1', 'acme'), payload: bytes });
const status = (...extra: string[]) =>
  cli('rules', 'status', '--broker', broker.url, '--tenant', 'acme', ...extra);

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await tempDir('filament-rollout-');
  await publish(v1);
  acks = await AckWatcher.connect(broker.url, 'filament/v1', 5);
  for (const replica of ['r1', 'r2', 'r3']) {
    const config = join(dir.path, `${replica}.toml`);
    await writeFile(
      config,
      [
        '[api]',
        `socket = "${join(dir.path, `${replica}.sock`)}"`,
        '[saturation]',
        'nvidia_smi = "off"',
        ...(replica === 'r3' ? ['[rules]', 'max_clock_skew_seconds = 30'] : []),
      ].join('\n'),
    );
    sidecars.set(
      replica,
      startSidecarProcess(
        sidecarArgs({
          config,
          brokers: [broker.url],
          tenant: 'acme',
          replica,
          stateDir: join(dir.path, replica),
        }),
      ),
    );
  }
  for (const replica of ['r1', 'r2', 'r3'])
    await acks.next((a) => a.replica === replica && a.activeVersion === 1);
});
afterAll(async () => {
  signal('r2', 'SIGCONT');
  for (const s of sidecars.values()) await s.kill('SIGTERM');
  await acks.close();
  await broker.stop();
  await dir.remove();
});

describe('filament rules status against a real broker and three sidecars', () => {
  test('all on the retained version: exit 0', async () => {
    const result = await status();
    expect(result.code).toBe(0);
    expect(result.out).toContain('tenant acme: rolling out v1');
    expect(result.out).toContain('gpu-east: 3/3 on v1');
    expect(result.out).toMatch(/r1\s+gpu-east\s+current\s+v1/);
  });

  test('one behind, one NACKing: the table, the JSON and exit 1; --wait succeeds once the last one catches up', async () => {
    signal('r2', 'SIGSTOP');
    await publish(v2);
    await acks.next((a) => a.replica === 'r1' && a.activeVersion === 2);
    await acks.next(
      (a) => a.replica === 'r3' && a.status === 'rejected' && a.receivedVersion === 2,
    );

    const table = await status();
    expect(table.code).toBe(1);
    expect(table.out).toMatch(/gpu-east: 1\/3 on v2, 1 NACK ISSUED_IN_FUTURE, 1 silent \d+ s/);
    expect(table.out).toContain('33.3 % on it (need 100.0 %): NOT met');
    expect(table.out).toMatch(/r2\s+gpu-east\s+behind\s+v1/);
    expect(table.out).toMatch(/r3\s+gpu-east\s+nacked\s+v1\s+v2 ISSUED_IN_FUTURE/);
    expect(table.out).toContain('r3: NACK v2 ISSUED_IN_FUTURE: ');

    const json = await status('--json');
    expect(json.code).toBe(1);
    const view = JSON.parse(json.out);
    expect(view).toMatchObject({ tenant: 'acme', target: 2, met: false, minFraction: 1 });
    expect(view.fraction).toBeCloseTo(1 / 3, 5);
    expect(
      view.rows.map((r: { replica: string; standing: string }) => [r.replica, r.standing]),
    ).toEqual([
      ['r1', 'current'],
      ['r2', 'behind'],
      ['r3', 'nacked'],
    ]);
    expect(view.clusters).toEqual([
      expect.objectContaining({
        cluster: 'gpu-east',
        current: 1,
        counted: 3,
        nacks: { ISSUED_IN_FUTURE: 1 },
        behind: 1,
      }),
    ]);

    // A gate that is never met times out with exit 1.
    const started = Date.now();
    expect((await status('--wait', '--timeout', '1500ms')).code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);

    // A pipeline waits for two thirds; r2 wakes up, applies v2, and the wait ends with exit 0.
    const waiting = status('--wait', '--min-fraction', '0.6', '--timeout', '30s');
    await Bun.sleep(1500);
    signal('r2', 'SIGCONT');
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(waited.out).toContain('gpu-east: 2/3 on v2, 1 NACK ISSUED_IN_FUTURE');
    expect(waited.out).toContain('66.7 % on it (need 60.0 %): met');
  }, 60_000);

  test('bad command lines and an unknown tenant', async () => {
    expect((await cli('rules', 'status', '--broker', broker.url)).code).toBe(2);
    expect((await status('--min-fraction', '7')).code).toBe(2);
    expect((await status('--timeout', 'soon')).code).toBe(2);
    const nobody = await cli('rules', 'status', '--broker', broker.url, '--tenant', 'globex');
    expect(nobody.code).toBe(1);
    expect(nobody.out).toBe('no replica has ACKed tenant "globex" yet');
  });
});
