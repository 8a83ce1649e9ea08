import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CAP = 64 * 1024;

// "Endless data": a rule message far beyond the cap must cost the sidecar nothing.
describe('oversize rule messages (mosquitto, MQTT 5)', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-endless-');
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      `[rules]\ntenants = ["acme"]\nmax_message_bytes = ${CAP}\n[api]\nsocket = "${join(dir.path, 'api.sock')}"\n[saturation]\nnvidia_smi = "off"\n`,
    );
    sidecar = startSidecarProcess(
      sidecarArgs({ config, brokers: [broker.url], stateDir: dir.path }),
    );
    await sidecar.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
    await publish(jsonBytes(ruleSet('acme', 1)));
    await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'v1');
  });
  afterAll(async () => {
    await sidecar?.kill('SIGTERM');
    await broker?.stop();
    await dir?.remove();
  });

  const publish = (payload: Uint8Array) =>
    publishOnce({ url: broker.url, topic: rulesTopic('filament/v1', 'acme'), payload });
  /** A rule set padded with a long description to `bytes`. */
  const padded = (version: number, bytes: number) =>
    jsonBytes(ruleSet('acme', version, { description: 'x'.repeat(bytes) }));

  test('somewhat over the cap: delivered, refused TOO_LARGE before decoding, rules kept', async () => {
    await publish(padded(2, CAP + 1000));
    const nack = await sidecar.waitForLog((l) => l.msg === 'rejected rule set', 'the NACK');
    expect(nack.code).toBe('TOO_LARGE');
    expect(nack.activeVersion).toBe(1);
  });

  test('far over the cap (beyond the MQTT 5 maximum packet size it announced): the broker never sends it', async () => {
    const rejectedBefore = sidecar.logs.filter((l) => l.msg === 'rejected rule set').length;
    await publish(padded(3, 8 * CAP));
    // Then a normal set, to know the stream moved past the giant one.
    await publish(jsonBytes(ruleSet('acme', 4)));
    await sidecar.waitForLog((l) => l.msg === 'applied rule set' && l.version === 4, 'v4');
    expect(sidecar.logs.filter((l) => l.msg === 'rejected rule set').length).toBe(rejectedBefore);
    expect(sidecar.logs.some((l) => l.version === 3)).toBe(false);
  });
});
