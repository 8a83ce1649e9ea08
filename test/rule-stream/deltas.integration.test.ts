import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Buffer } from 'node:buffer';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AckWatcher } from '../../src/demo/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesFullTopic, rulesTopic } from '../../src/mqtt/index.ts';
import {
  buildRuleDelta,
  DELTA_CONTENT_TYPE,
  type RuleSet,
  ruleSetDigest,
} from '../../src/rules/index.ts';
import { ENVELOPE_CONTENT_TYPE, parsePrivateKey, signRuleDelta } from '../../src/trust/index.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, splitRuleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const PREFIX = 'filament/v1';
const TENANT = 'big';

const version = (v: number, a = 50) => splitRuleSet(TENANT, v, a);

describe('rule deltas on a real broker (mosquitto)', () => {
  let broker: MosquittoBroker;
  let watcher: AckWatcher;
  let work: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;

  const start = () => {
    sidecar = startSidecarProcess(
      sidecarArgs({
        brokers: [broker.url],
        tenant: TENANT,
        replica: 'delta-host',
        stateDir: join(work.path, 'state'),
      }),
    );
    return sidecar;
  };
  const publishFull = async (set: RuleSet) => {
    // The complete newest set, retained where hosts that cannot apply a delta take it from…
    await publishOnce({
      url: broker.url,
      topic: rulesFullTopic(PREFIX, TENANT),
      payload: jsonBytes(set),
    });
  };
  // …and the delta, retained on the topic every host follows.
  const publishDelta = (delta: unknown, contentType: string | undefined = DELTA_CONTENT_TYPE) =>
    publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, TENANT),
      payload: jsonBytes(delta),
      ...(contentType ? { contentType } : {}),
    });
  const ack = (v: number, status = 'applied') =>
    watcher.next((a) => a.tenant === TENANT && a.receivedVersion === v && a.status === status);

  beforeAll(async () => {
    broker = await startMosquitto();
    watcher = await AckWatcher.connect(broker.url, PREFIX, 5);
    work = await tempDir('filament-deltas-');
    await publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, TENANT),
      payload: jsonBytes(version(1)),
    });
    start();
    await ack(1);
  });
  afterAll(async () => {
    await sidecar?.kill('SIGKILL');
    await watcher.close();
    await broker.stop();
    await work.remove();
  });

  test('a delta on the right base is applied, without the full set', async () => {
    await publishFull(version(2, 90));
    await publishDelta(buildRuleDelta(version(1), version(2, 90)));
    const a = await ack(2);
    expect(a).toMatchObject({ activeVersion: 2, persisted: true });
    expect(a.fetchedFull).toBeUndefined();
    // A full set of the same version agrees with it.
    await publishOnce({
      url: broker.url,
      topic: rulesTopic(PREFIX, TENANT),
      payload: jsonBytes(version(2, 90)),
    });
    expect((await ack(2, 'unchanged')).activeVersion).toBe(2);
  });

  test('a delta whose result does not match its digest is refused; the rules stay', async () => {
    const wrong = {
      ...buildRuleDelta(version(2, 90), version(3, 70)),
      digest: ruleSetDigest(version(3, 60)),
    };
    await publishDelta(wrong, undefined); // no content type: known by its kind
    expect(await ack(3, 'rejected')).toMatchObject({ code: 'DIGEST_MISMATCH', activeVersion: 2 });
  });

  test('not on the base: it takes the full set, ends on the right version, and says so', async () => {
    await publishFull(version(6, 30));
    await publishDelta(buildRuleDelta(version(5, 40), version(6, 30)));
    const a = await ack(6);
    expect(a).toMatchObject({ activeVersion: 6, fetchedFull: true });
    await sidecar.waitForLog(
      (l) => l.msg === 'a rule delta this host cannot apply: taking the full set' && l.base === 5,
      'the fallback log line',
    );
  });

  test('a restart between deltas recovers: from disk, then the retained delta or the full set', async () => {
    await sidecar.kill('SIGTERM');
    // Two versions go out while the host is down: the retained delta is 7 → 8, the host is on 6.
    await publishFull(version(7, 20));
    await publishDelta(buildRuleDelta(version(6, 30), version(7, 20)));
    await publishFull(version(8, 10));
    await publishDelta(buildRuleDelta(version(7, 20), version(8, 10)));
    start();
    await sidecar.waitForLog(
      (l) => l.msg === 'restored last-known-good rules' && l.version === 6,
      'restore',
    );
    expect(await ack(8)).toMatchObject({ activeVersion: 8, fetchedFull: true });
  });
});

// The operator's path with signatures: keys from the CLI, full set and delta published and signed
// by `rules publish --delta-from --key`, a `filament run` that trusts only that key.
describe('signed rule deltas on a real broker (mosquitto)', () => {
  let broker: MosquittoBroker;
  let watcher: AckWatcher;
  let work: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  const file = (name: string) => join(work.path, name);
  const signedVersion = (v: number, a = 50) => ({
    ...version(v, a),
    expiresAt: '2099-01-01T00:00:00Z',
  });
  const write = async (v: number, a: number) => {
    await writeFile(file(`v${v}.json`), jsonBytes(signedVersion(v, a)));
    return file(`v${v}.json`);
  };
  const start = () => {
    sidecar = startSidecarProcess(
      sidecarArgs({
        config: file('trust.toml'),
        brokers: [broker.url],
        replica: 'signed-delta-host',
        stateDir: file('state'),
      }),
    );
  };
  const ack = (v: number, status = 'applied') =>
    watcher.next((a) => a.tenant === TENANT && a.receivedVersion === v && a.status === status);
  const publishDelta = (payload: Uint8Array, contentType: string) =>
    publishOnce({ url: broker.url, topic: rulesTopic(PREFIX, TENANT), payload, contentType });

  beforeAll(async () => {
    broker = await startMosquitto();
    watcher = await AckWatcher.connect(broker.url, PREFIX, 5);
    work = await tempDir('filament-signed-deltas-');
    expect((await cli('rules', 'keygen', 'release', '--dir', work.path)).code).toBe(0);
    await writeFile(
      file('trust.toml'),
      [
        '[rules]',
        `tenants = ["${TENANT}"]`,
        `trusted_keys = ["${file('release.pub')}"]`,
        '[api]',
        `socket = "${file('api.sock')}"`,
        '[saturation]',
        'nvidia_smi = "off"',
      ].join('\n'),
    );
    const v1 = await write(1, 50);
    const published = await cli(
      'rules',
      'publish',
      v1,
      '--broker',
      broker.url,
      '--key',
      file('release.key'),
    );
    expect(published.code).toBe(0);
    start();
    await ack(1);
  });
  afterAll(async () => {
    await sidecar?.kill('SIGKILL');
    await watcher.close();
    await broker.stop();
    await work.remove();
  });

  test('a signed delta is applied; unsigned or tampered ones are refused, the rules untouched', async () => {
    const v2 = await write(2, 90);
    const bare = await cli(
      'rules',
      'publish',
      v2,
      '--broker',
      broker.url,
      '--delta-from',
      file('v1.json'),
    );
    expect(bare.code).toBe(0); // the publisher may; the host refuses
    // Refused before it is read: the NACK cannot say which version it claimed.
    const refusal = (code: string) =>
      watcher.next((a) => a.tenant === TENANT && a.status === 'rejected' && a.code === code);
    expect(await refusal('UNSIGNED')).toMatchObject({ activeVersion: 1 });

    const delta = jsonBytes(buildRuleDelta(signedVersion(1, 50), signedVersion(2, 90)));
    const key = parsePrivateKey(await readFile(file('release.key'), 'utf8'));
    const envelope = signRuleDelta(delta, [key]);
    const tampered = {
      ...envelope,
      payload: Buffer.from(
        JSON.stringify({ ...JSON.parse(new TextDecoder().decode(delta)), version: 3 }),
      ).toString('base64'),
    };
    await publishDelta(jsonBytes(tampered), ENVELOPE_CONTENT_TYPE);
    expect(await refusal('SIGNATURE')).toMatchObject({ activeVersion: 1 });

    const signed = await cli(
      'rules',
      'publish',
      v2,
      '--broker',
      broker.url,
      '--delta-from',
      file('v1.json'),
      '--key',
      file('release.key'),
    );
    expect(signed.code).toBe(0);
    expect(signed.out).toContain('as a signed delta from version 1');
    const a = await ack(2);
    expect(a).toMatchObject({ activeVersion: 2, persisted: true });
    expect(a.fetchedFull).toBeUndefined();
  });

  test('a restart re-verifies the journaled signed delta and comes back on the newest version', async () => {
    const v3 = await write(3, 70);
    expect(
      (
        await cli(
          'rules',
          'publish',
          v3,
          '--broker',
          broker.url,
          '--delta-from',
          file('v2.json'),
          '--key',
          file('release.key'),
        )
      ).code,
    ).toBe(0);
    await ack(3);
    await sidecar.kill('SIGTERM');
    start();
    await sidecar.waitForLog(
      (l) => l.msg === 'restored last-known-good rules' && l.version === 3 && l.snapshot === 1,
      'restored version 3: the snapshot of version 1 and two journaled signed deltas',
    );
    // The retained delta (2 → 3) finds version 3 applied: unchanged, no full set fetched.
    const a = await ack(3, 'unchanged');
    expect(a.fetchedFull).toBeUndefined();
  });
});
