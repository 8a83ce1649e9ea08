import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listenForRetained } from '../../src/cli/fleet-watch.ts';
import { AckWatcher } from '../../src/demo/index.ts';
import { startMosquitto } from '../../src/local-broker/index.ts';
import { MqttConnection, publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
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
    // A NACK of the target fails the gate whatever the share, unless the pipeline allows it.
    const refused = await status('--min-fraction', '0.3');
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('  - 1 replica(s) refused v2 (ISSUED_IN_FUTURE ×1), 0 allowed');
    const waiting = status(
      '--wait',
      '--min-fraction',
      '0.6',
      '--max-nacks',
      '1',
      '--timeout',
      '30s',
    );
    await Bun.sleep(1500);
    signal('r2', 'SIGCONT');
    const waited = await waiting;
    expect(waited.code).toBe(0);
    expect(waited.out).toContain('gpu-east: 2/3 on v2, 1 NACK ISSUED_IN_FUTURE');
    expect(waited.out).toContain('66.7 % on it (need 60.0 %, 1 NACK(s) allowed): met');
    expect(waited.out).toContain('a new host would take: v2, the retained set');
  }, 60_000);

  test('a retained version older than the fleet runs: publish refuses it without --force; the gate fails and says what a new host takes', async () => {
    const v1File = join(dir.path, 'v1.json');
    await writeFile(v1File, v1);
    const refused = await cli('rules', 'publish', v1File, '--broker', broker.url);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      'not published: v1 is older than what the tenant has (v2 is retained on filament/v1/rules/acme; 2 of 3 replica(s) run v2): every replica would refuse it (VERSION_REGRESSION) and a host that starts later would take v1. Publish a version above 2, or add --force',
    );
    const forced = await cli('rules', 'publish', v1File, '--broker', broker.url, '--force');
    expect(forced.code).toBe(0);
    for (const replica of ['r1', 'r2'])
      await acks.next(
        (a) =>
          a.replica === replica &&
          a.code === 'VERSION_REGRESSION' &&
          a.receivedVersion === 1 &&
          a.activeVersion === 2,
      );
    const table = await status();
    expect(table.code).toBe(1);
    expect(table.out).toContain('tenant acme: rolling out v1');
    expect(table.out).toContain('gpu-east: 1/3 on v1, 2 on a newer version');
    expect(table.out).toContain('a new host would take: v1, the retained set');
    expect(table.out).toContain(
      '  - the retained v1 is older than v2, which 2 replica(s) run: they refuse it (VERSION_REGRESSION) and a new host would start on v1; publish a version above 2',
    );
    expect(table.out).toMatch(/r1\s+gpu-east\s+ahead\s+v2\s+v1 VERSION_REGRESSION/);
    const json = JSON.parse((await status('--json')).out);
    expect(json.newerInUse).toEqual({ version: 2, replicas: 2 });
    expect(json.newHost).toEqual({ version: 1, how: 'v1, the retained set' });
    // Put the fleet back ahead: v3 over everything.
    await publish(jsonBytes(ruleSet('acme', 3)));
    for (const replica of ['r1', 'r2', 'r3'])
      await acks.next((a) => a.replica === replica && a.activeVersion === 3);
  }, 60_000);

  test('retiring a replica: refused while it runs; once stopped, its retained topics are cleared and it no longer counts', async () => {
    const running = await cli(
      'retire',
      '--broker',
      broker.url,
      '--cluster',
      'gpu-east',
      '--replica',
      'r1',
    );
    expect(running.code).toBe(1);
    expect(running.err).toMatch(
      /^retire: r1 of gpu-east is running \(it reported \w+ \d+ s ago\): stop its sidecar first, or add --force$/,
    );

    await sidecars.get('r3')?.kill('SIGTERM');
    sidecars.delete('r3');
    const stopped = JSON.parse((await status('--json')).out);
    expect(stopped.rows.find((r: { replica: string }) => r.replica === 'r3')?.standing).toBe(
      'offline',
    );

    // The host retires itself from its own config, as the package's removal does.
    const config = join(dir.path, 'r3-host.toml');
    await writeFile(
      config,
      [
        '[identity]',
        'replica = "r3"',
        'cluster = "gpu-east"',
        '[broker]',
        `urls = ["${broker.url}"]`,
        '[rules]',
        'tenants = ["acme"]',
      ].join('\n'),
    );
    const retired = await cli('retire', '--config', config);
    expect({ code: retired.code, err: retired.err }).toEqual({ code: 0, err: '' });
    expect(retired.out).toBe(
      [
        'retired r3 of gpu-east: cleared 3 retained topic(s)',
        '  filament/v1/replicas/gpu-east/r3',
        '  filament/v1/inventory/gpu-east/r3',
        '  filament/v1/acks/acme/r3',
      ].join('\n'),
    );
    const left: string[] = [];
    const look = new MqttConnection({ urls: [broker.url], clientId: 'look', cleanSession: true });
    look.subscribe('filament/v1/+/+/r3', async (m) => {
      left.push(m.topic);
    });
    expect(await listenForRetained(look)).toBe(true);
    await look.stop();
    expect(left).toEqual([]);
    const after = await status();
    expect({ code: after.code, out: after.out }).toMatchObject({ code: 0 });
    expect(after.out).toContain('gpu-east: 2/2 on v3');
    expect(after.out).not.toMatch(/^r3 /m);
  }, 60_000);

  test('bad command lines and an unknown tenant', async () => {
    expect((await cli('rules', 'status', '--broker', broker.url)).code).toBe(2);
    expect((await status('--min-fraction', '7')).code).toBe(2);
    expect((await status('--timeout', 'soon')).code).toBe(2);
    const nobody = await cli('rules', 'status', '--broker', broker.url, '--tenant', 'globex');
    expect(nobody.code).toBe(1);
    expect(nobody.out).toBe(
      'no replica has ACKed tenant "globex" yet\na new host would take: nothing: no rule set is retained',
    );
    expect((await status('--max-nacks', '-1')).code).toBe(2);
    expect((await cli('retire', '--broker', broker.url, '--replica', 'r1')).code).toBe(2);
  });
});
