import { describe, expect, test } from 'bun:test';
import { Buffer } from 'node:buffer';
import {
  decodeJournal,
  decodeStateRecord,
  encodeJournalEntry,
  encodeStateRecord,
} from '../../src/last-known-good/index.ts';

const entry = (base: number, version: number, text = `delta ${base}→${version}`) => ({
  base,
  version,
  envelope: version % 2 === 0,
  bytes: new Uint8Array(Buffer.from(text)),
});

describe('the delta journal', () => {
  test('frames decode back in order, each continuing the version before', () => {
    const entries = [entry(4, 5), entry(5, 6, 'with\nnewlines\n'), entry(6, 9)];
    const data = Buffer.concat(entries.map(encodeJournalEntry));
    expect(decodeJournal(data, 4)).toEqual({ entries });
  });

  test('a torn, corrupt or off-chain frame ends it, naming why; the frames before stay', () => {
    const good = encodeJournalEntry(entry(1, 2));
    const next = encodeJournalEntry(entry(2, 3));
    const cases: Array<[Uint8Array, string]> = [
      [Buffer.concat([good, next.subarray(0, next.byteLength - 5)]), 'truncated'],
      [Buffer.concat([good, next.subarray(0, 20)]), 'torn or corrupt'],
      [
        Buffer.concat([
          good,
          Buffer.from(next).fill(0x41, next.byteLength - 8, next.byteLength - 2),
        ]),
        'checksum mismatch',
      ],
      [Buffer.concat([good, encodeJournalEntry(entry(7, 8))]), 'applies to version 7, not 2'],
      [Buffer.concat([good, Buffer.from('garbage\n')]), 'not a journal frame'],
    ];
    for (const [data, why] of cases) {
      const decoded = decodeJournal(data, 1);
      expect(decoded.entries.map((e) => e.version)).toEqual([2]);
      expect(decoded.problem).toContain(why);
    }
    // A journal that does not continue the snapshot's version gives nothing.
    expect(decodeJournal(good, 5).entries).toEqual([]);
  });
});

describe('a state record with an attestation', () => {
  const header = { tenant: 'acme', version: 3, encoding: 'json', appliedAt: 'now' } as const;
  test('keeps the set and the delta vouching for it apart', () => {
    const set = Buffer.from('{"the":"set"}');
    const vouch = Buffer.from('{"the":"delta"}');
    const record = decodeStateRecord(
      encodeStateRecord(
        { ...header, attestation: { length: vouch.byteLength, envelope: true } },
        set,
        vouch,
      ),
    );
    if ('error' in record) throw new Error(record.error);
    expect(Buffer.from(record.bytes).toString()).toBe('{"the":"set"}');
    expect(Buffer.from(record.attestation ?? []).toString()).toBe('{"the":"delta"}');
  });

  test('an attestation length that does not fit is refused', () => {
    const data = encodeStateRecord(
      { ...header, attestation: { length: 99, envelope: false } },
      Buffer.from('{}'),
    );
    expect(decodeStateRecord(data)).toEqual({
      error: 'attestation length 99 does not fit 2 bytes',
    });
  });
});
