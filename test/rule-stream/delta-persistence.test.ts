import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeJournal,
  decodeStateRecord,
  MAX_JOURNAL_ENTRIES,
  StateStore,
} from '../../src/last-known-good/index.ts';
import { InMemoryBroker, rulesTopic } from '../../src/mqtt/index.ts';
import { RuleFollower } from '../../src/rule-stream/index.ts';
import {
  buildRuleDelta,
  DELTA_CONTENT_TYPE,
  RuleApplier,
  type RuleSet,
  RuleStore,
} from '../../src/rules/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  generateSigningKey,
  parsePrivateKey,
  parsePublicKey,
  signRuleDelta,
  signRuleSet,
  TrustRoot,
} from '../../src/trust/index.ts';
import { jsonBytes, largeRuleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// Last-known-good with deltas: each applied delta is journaled (a few hundred bytes, fsynced)
// rather than the whole set rewritten; every MAX_JOURNAL_ENTRIES a snapshot of the complete set
// is written with the delta that made it, which vouches for it after a restart. The broker is the
// in-memory one; the state directory is real.

const PREFIX = 'filament/v1';
const EXPIRES = '2099-01-01T00:00:00Z';

/** Version `v` of a 200-objective tenant: objective `v` changed from version `v - 1`. */
function versions(last: number): RuleSet[] {
  const sets: RuleSet[] = [{ ...largeRuleSet('acme', 1, 200, 20), expiresAt: EXPIRES }];
  for (let v = 2; v <= last; v++) {
    const prev = sets[sets.length - 1] as RuleSet;
    const objectives = [...prev.objectives];
    objectives[v % 200] = {
      ...(objectives[v % 200] as RuleSet['objectives'][number]),
      defaultModel: `model-${v % 20}`,
    };
    sets.push({ ...prev, version: v, objectives });
  }
  return sets;
}

describe('last-known-good with deltas', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: InMemoryBroker;
  let publisher: ReturnType<InMemoryBroker['connect']>;
  const key = generateSigningKey();
  const trust = new TrustRoot([parsePublicKey(key.publicPem)], 1);
  const signingKeys = [parsePrivateKey(key.privatePem)];

  beforeEach(async () => {
    dir = await tempDir();
    broker = new InMemoryBroker();
    publisher = broker.connect();
    publisher.start();
  });
  afterEach(() => dir.remove());

  async function host(withTrust?: TrustRoot) {
    const store = new RuleStore(2);
    const applier = new RuleApplier(store, {
      limits: { maxBytes: 8 << 20, maxDepth: 32 },
      now: () => Date.parse('2026-12-01T00:00:00Z'),
      ...(withTrust ? { trust: withTrust } : {}),
    });
    const disk = new StateStore(dir.path);
    await disk.open();
    const bus = broker.connect();
    bus.start();
    const follower = new RuleFollower({
      bus,
      applier,
      store,
      state: disk,
      topicPrefix: PREFIX,
      replica: 'host-1',
      cluster: 'gpu-east',
      tenants: ['acme'],
    });
    await follower.restore();
    follower.start();
    await bus.settled();
    return { store, follower, bus, stop: () => follower.stop() };
  }

  const publish = async (bytes: Uint8Array, contentType: string) => {
    await publisher.publishRetained(rulesTopic(PREFIX, 'acme'), bytes, { contentType });
  };
  const journal = (from: number) =>
    readFile(join(dir.path, 'rules', 'acme.journal'))
      .then((data) => decodeJournal(new Uint8Array(data), from))
      .catch(() => ({ entries: [] }));
  const snapshot = async () =>
    decodeStateRecord(new Uint8Array(await readFile(join(dir.path, 'rules', 'acme.state'))));

  for (const signed of [false, true]) {
    test(`${signed ? 'signed' : 'unsigned'}: deltas are journaled, a snapshot follows every ${MAX_JOURNAL_ENTRIES}, and a restart rebuilds the newest version${signed ? ', verified again' : ''}`, async () => {
      const sets = versions(MAX_JOURNAL_ENTRIES + 8);
      const full = (set: RuleSet) =>
        signed ? jsonBytes(signRuleSet(jsonBytes(set), 'json', signingKeys)) : jsonBytes(set);
      const delta = (from: RuleSet, to: RuleSet) => {
        const bytes = jsonBytes(buildRuleDelta(from, to));
        return signed ? jsonBytes(signRuleDelta(bytes, signingKeys)) : bytes;
      };
      const type = signed ? ENVELOPE_CONTENT_TYPE : DELTA_CONTENT_TYPE;
      const first = await host(signed ? trust : undefined);
      await publish(full(sets[0] as RuleSet), signed ? ENVELOPE_CONTENT_TYPE : 'application/json');
      await first.bus.settled();
      for (let i = 1; i < sets.length; i++) {
        await publish(delta(sets[i - 1] as RuleSet, sets[i] as RuleSet), type);
        await first.bus.settled();
        expect(first.follower.lastAck('acme')).toMatchObject({
          status: 'applied',
          activeVersion: i + 1,
          persisted: true,
        });
      }
      first.stop();
      // Version 1 was a full set; 2…65 went to the journal; 66 found it full and was written
      // whole, with the delta that made it; 67…73 are journaled after it.
      const last = sets.length;
      const snapshotAt = MAX_JOURNAL_ENTRIES + 2;
      const record = await snapshot();
      if ('error' in record) throw new Error(record.error);
      expect(record.header).toMatchObject({
        version: snapshotAt,
        attestation: { envelope: signed },
      });
      expect(record.header.envelope).toBeUndefined();
      expect((await journal(snapshotAt)).entries.map((e) => e.version)).toEqual(
        Array.from({ length: last - snapshotAt }, (_, i) => snapshotAt + 1 + i),
      );

      const second = await host(signed ? trust : undefined);
      expect(second.store.active('acme')?.ruleSet).toEqual(sets[last - 1] as RuleSet);
      expect(second.store.active('acme')?.signedBy?.length ?? 0).toBe(signed ? 1 : 0);
      second.stop();
      if (!signed) return;
      // Keys rotated: what the old key vouched for is no longer trusted, journal included.
      const other = generateSigningKey();
      const third = await host(new TrustRoot([parsePublicKey(other.publicPem)], 1));
      expect(third.store.active('acme')).toBeUndefined();
      third.stop();
    });
  }

  test('a torn journal keeps the deltas before the tear, and the next save writes a snapshot', async () => {
    const sets = versions(6);
    const first = await host();
    await publish(jsonBytes(sets[0]), 'application/json');
    for (let i = 1; i < 6; i++)
      await publish(
        jsonBytes(buildRuleDelta(sets[i - 1] as RuleSet, sets[i] as RuleSet)),
        DELTA_CONTENT_TYPE,
      );
    await first.bus.settled();
    first.stop();
    const file = join(dir.path, 'rules', 'acme.journal');
    const { byteLength } = await readFile(file);
    await truncate(file, byteLength - 10); // a crash in the middle of the last append
    const second = await host();
    // The retained delta (5 → 6) applies on what was restored — so the restore reached 5, with no
    // full set to fetch — and, the journal being torn, is written as a snapshot, not appended
    // after the tear.
    const ack = second.follower.lastAck('acme');
    expect(ack).toMatchObject({ activeVersion: 6, persisted: true });
    expect(ack?.fetchedFull).toBeUndefined();
    const record = await snapshot();
    expect('error' in record ? record.error : record.header.version).toBe(6);
    expect((await journal(6)).entries).toEqual([]);
    second.stop();
  });
});
