import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { AckWatcher } from '../../src/demo/index.ts';
import { StateStore } from '../../src/last-known-good/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes, largeRuleSet } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// SIGTERM while a large rule set (11,500 objectives, ≈ 2.4 MB) is being decoded, applied and
// written: the stop must be clean and the disk must hold a whole version, the old or the new.

describe('SIGTERM in the middle of a rule apply', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let acks: AckWatcher;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir();
    acks = await AckWatcher.connect(broker.url, 'filament/v1', 5);
  });
  afterAll(async () => {
    await acks?.close();
    await broker?.stop();
    await dir?.remove();
  });

  test('exits 0 and leaves a whole version on disk, never older than one acknowledged durable', async () => {
    const stateDir = join(dir.path, 'state');
    const big = (version: number) => jsonBytes(largeRuleSet('acme', version, 11_500));
    const publish = (version: number) =>
      publishOnce({
        url: broker.url,
        topic: rulesTopic('filament/v1', 'acme'),
        payload: big(version),
      });
    await publish(1);
    for (let round = 0; round < 5; round++) {
      const sidecar = startSidecarProcess([
        ...sidecarArgs({ brokers: [broker.url], tenant: 'acme', replica: 'host-1', stateDir }),
        '--grpc-socket',
        join(dir.path, 'api.sock'),
      ]);
      const before = await acks.next((a) => a.replica === 'host-1' && a.persisted, 20_000);
      const next = (before.activeVersion ?? 0) + 1;
      await publish(next);
      // Land the signal while the set is in flight: decode, check, compile, write take tens of ms.
      await new Promise((resolve) => setTimeout(resolve, round * 8));
      expect(await sidecar.kill('SIGTERM')).toBe(0);
      const durable =
        (await acks
          .next((a) => a.replica === 'host-1' && a.activeVersion === next && a.persisted, 300)
          .catch(() => null)) !== null;
      const loaded = await new StateStore(stateDir).load('acme');
      expect(loaded.problems).toEqual([]);
      expect(loaded.source).toBe('current');
      expect([next - 1, next]).toContain(loaded.record?.header.version as number);
      if (durable) expect(loaded.record?.header.version).toBe(next);
    }
  }, 120_000);
});
