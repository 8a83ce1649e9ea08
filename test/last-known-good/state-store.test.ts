import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  decodeStateRecord,
  encodeStateRecord,
  StateStore,
  StateWriteError,
} from '../../src/last-known-good/index.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const save = (store: StateStore, version: number, body = `{"v":${version}}`) =>
  store.save({
    tenant: 'acme',
    version,
    encoding: 'json',
    appliedAt: Date.parse('2026-11-23T00:00:00Z'),
    bytes: bytes(body),
  });

describe('StateStore', () => {
  let dir: { path: string; remove(): Promise<void> };
  let store: StateStore;
  const file = (name: string) => join(dir.path, 'rules', name);

  beforeEach(async () => {
    dir = await tempDir();
    store = new StateStore(dir.path);
    await store.open();
  });
  afterEach(() => dir.remove());

  test('on open, removes temporary files of writers that died, and keeps a live writer’s', async () => {
    await writeFile(file('acme.state.tmp-999999999'), 'half a record');
    await writeFile(file(`acme.state.tmp-${process.pid}`), 'being written');
    await new StateStore(dir.path).open();
    expect((await readdir(join(dir.path, 'rules'))).sort()).toEqual([
      '.reserve',
      `acme.state.tmp-${process.pid}`,
    ]);
  });

  test('a save keeps the copy it replaces as the previous one', async () => {
    await save(store, 1);
    await save(store, 2);
    expect((await store.load('acme')).record?.header.version).toBe(2);
    expect(decodeStateRecord(await readFile(file('acme.state.prev')))).toMatchObject({
      header: { version: 1 },
    });
  });

  test('journaled deltas raise the version floor without rewriting .hwm; a torn frame does not count', async () => {
    await save(store, 3);
    for (const [base, version] of [
      [3, 4],
      [4, 5],
    ] as const)
      expect(
        await store.appendDelta({
          tenant: 'acme',
          base,
          version,
          envelope: false,
          bytes: bytes(`delta ${version}`),
        }),
      ).toBe(true);
    expect((await readFile(file('acme.hwm'), 'utf8')).trim()).toBe('3');
    expect((await store.load('acme')).highWater).toBe(5);
    // A crash while the last frame was written: that version was never ACKed, nor is it a floor.
    const journal = await readFile(file('acme.journal'));
    await writeFile(file('acme.journal'), journal.subarray(0, journal.byteLength - 3));
    const torn = await new StateStore(dir.path).load('acme');
    expect(torn.highWater).toBe(4);
    expect(torn.problems.join()).toContain('truncated');
  });

  test('loads nothing, with no problems, for a tenant never saved', async () => {
    expect(await store.load('acme')).toEqual({
      record: null,
      source: null,
      highWater: 0,
      deltas: [],
      problems: [],
    });
  });

  test('saves and loads the exact bytes with their version; keeps the copy before', async () => {
    await save(store, 1);
    await save(store, 2);
    const loaded = await store.load('acme');
    expect(loaded.source).toBe('current');
    expect(loaded.highWater).toBe(2);
    expect(new TextDecoder().decode(loaded.record?.bytes)).toBe('{"v":2}');
    expect(loaded.record?.header).toMatchObject({
      tenant: 'acme',
      version: 2,
      encoding: 'json',
      appliedAt: '2026-11-23T00:00:00.000Z',
    });
    expect(
      decodeStateRecord(new Uint8Array(await readFile(file('acme.state.prev')))),
    ).toMatchObject({ header: { version: 1 } });
    expect((await readdir(join(dir.path, 'rules'))).filter((n) => n.includes('.tmp'))).toEqual([]);
  });

  const damages: Array<[string, (data: Uint8Array) => Uint8Array | string]> = [
    ['truncated', (d) => d.subarray(0, d.byteLength - 3)],
    ['a flipped byte', (d) => d.map((b, i) => (i === d.byteLength - 2 ? b ^ 0xff : b))],
    ['empty', () => ''],
    ['a foreign file', () => 'hello world'],
    ['a broken header', (d) => new TextDecoder().decode(d).replace('"tenant"', '"ten')],
  ];
  for (const [name, damage] of damages) {
    test(`falls back to the previous copy when the current file is ${name}, without lowering the high-water version`, async () => {
      await save(store, 4);
      await save(store, 5);
      await writeFile(
        file('acme.state'),
        damage(new Uint8Array(await readFile(file('acme.state')))),
      );
      const loaded = await store.load('acme');
      expect(loaded).toMatchObject({
        source: 'previous',
        highWater: 5,
        record: { header: { version: 4 } },
      });
      expect(loaded.problems).toHaveLength(1);
    });
  }

  test('reports no rules but the remembered high-water version when both copies are unusable', async () => {
    await save(store, 7);
    await save(store, 8);
    await writeFile(file('acme.state'), 'x');
    await writeFile(file('acme.state.prev'), 'y');
    const loaded = await store.load('acme');
    expect(loaded).toMatchObject({ record: null, source: null, highWater: 8 });
    expect(loaded.problems).toHaveLength(2);
  });

  test('ignores a state file holding another tenant', async () => {
    await save(store, 1);
    await writeFile(file('globex.state'), await readFile(file('acme.state')));
    const loaded = await store.load('globex');
    expect(loaded.record).toBeNull();
    expect(loaded.problems[0]).toContain('holds tenant "acme"');
  });

  test('survives a garbage high-water file', async () => {
    await save(store, 3);
    await writeFile(file('acme.hwm'), 'not a number');
    const loaded = await store.load('acme');
    expect(loaded.highWater).toBe(3);
    expect(loaded.problems[0]).toContain('not a version number');
  });

  test('concurrent saves never fail on their own temporary or previous-copy files', async () => {
    // An outside probe saw 52 of 500 saves fail with EEXIST on link(state, state.prev) when two
    // writers raced; the lock keeps two sidecars apart, and the save path is safe by itself too.
    const other = new StateStore(dir.path);
    const failures: string[] = [];
    const attempt = (s: StateStore, v: number) =>
      save(s, v).catch((error: Error) => void failures.push(error.message));
    for (let v = 1; v <= 250; v++)
      await Promise.all([attempt(store, 2 * v), attempt(other, 2 * v + 1)]);
    expect(failures).toEqual([]);
    const loaded = await store.load('acme');
    expect(loaded.problems).toEqual([]);
    // Two writers without the lock may interleave the floor's check-then-write; one store never does.
    expect(loaded.highWater).toBeGreaterThanOrEqual(500);
    expect((await readdir(join(dir.path, 'rules'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('saves of one tenant never interleave: the floor ends at the newest of many at once', async () => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => save(store, i + 1)));
    const loaded = await store.load('acme');
    expect(loaded.highWater).toBe(100);
    expect(loaded.record?.header.version).toBe(100);
  });

  test('a record or version floor of another topic prefix is set aside, not served', async () => {
    const prod = new StateStore(dir.path, { topicPrefix: 'prod/v1', trust: () => 'none' });
    const staging = new StateStore(dir.path, { topicPrefix: 'staging/v1', trust: () => 'k1/1' });
    await save(prod, 5);
    expect((await prod.load('acme')).record?.header).toMatchObject({
      version: 5,
      topicPrefix: 'prod/v1',
      trust: 'none',
    });
    const seen = await staging.load('acme');
    expect(seen).toMatchObject({ record: null, highWater: 0 });
    expect(seen.setAside).toContain('"prod/v1"');
    expect(
      (await readdir(join(dir.path, 'rules'))).filter((f) => f.startsWith('acme')).sort(),
    ).toEqual(['acme.hwm.foreign', 'acme.state.foreign']);
    // Records written before prefixes were recorded are still served (an upgrade keeps its rules).
    await save(store, 7);
    expect((await staging.load('acme')).record?.header.version).toBe(7);
  });

  test('throws StateWriteError when the directory cannot be written', async () => {
    const blocked = new StateStore(join(dir.path, 'rules', 'acme.hwm-is-a-file'));
    await writeFile(join(dir.path, 'rules', 'acme.hwm-is-a-file'), 'x');
    expect(blocked.open()).rejects.toBeInstanceOf(StateWriteError);
  });
});

describe('state records', () => {
  test('round-trip and detect corruption', () => {
    const record = encodeStateRecord(
      { tenant: 't', version: 3, encoding: 'msgpack', appliedAt: 'now' },
      bytes('\u0000\u0001binary'),
    );
    expect(decodeStateRecord(record)).toMatchObject({
      header: { tenant: 't', version: 3, length: 8 },
    });
    const flipped = record.slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
    expect(decodeStateRecord(flipped)).toEqual({
      error: 'checksum mismatch: the rule bytes are corrupt',
    });
  });
});
