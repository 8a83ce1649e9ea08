import { describe, expect, test } from 'bun:test';
import { pack } from 'msgpackr';
import { decodeDocument, detectEncoding, scanMsgpack } from '../../src/codec/index.ts';

const limits = { maxBytes: 4096, maxDepth: 8 };
const text = (s: string) => new TextEncoder().encode(s);
const nested = (depth: number) => text(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

describe('decodeDocument refuses what untrusted input must not do', () => {
  const cases: Array<[string, Uint8Array, string | undefined, string, string]> = [
    ['truncated JSON', text('{"a": [1, 2'), undefined, 'MALFORMED', ''],
    [
      'invalid UTF-8 in JSON',
      Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      undefined,
      'MALFORMED',
      '',
    ],
    ['oversize, before decoding', new Uint8Array(5000).fill(0x20), undefined, 'TOO_LARGE', ''],
    [
      '__proto__ key',
      text('{"ok": {"__proto__": {"polluted": true}}}'),
      undefined,
      'FORBIDDEN_KEY',
      '/ok/__proto__',
    ],
    [
      'escaped __proto__ key',
      text('{"\\u005f_proto__": 1}'),
      undefined,
      'FORBIDDEN_KEY',
      '/__proto__',
    ],
    [
      'constructor key',
      text('{"list": [{"constructor": 1}]}'),
      undefined,
      'FORBIDDEN_KEY',
      '/list/0/constructor',
    ],
    ['JSON nested past the cap', nested(9), undefined, 'TOO_DEEP', '/a/a/a/a/a/a/a/a'],
    ['neither JSON nor msgpack', text('hello'), undefined, 'UNKNOWN_ENCODING', ''],
    ['empty message', new Uint8Array(0), undefined, 'UNKNOWN_ENCODING', ''],
    ['unsupported content type', text('{}'), 'text/plain', 'UNKNOWN_ENCODING', ''],
    ['JSON labelled as msgpack', text('{"a":1}'), 'application/msgpack', 'MALFORMED', ''],
    [
      'msgpack fixext (timestamp)',
      Uint8Array.from([0x81, 0xa1, 0x74, 0xd6, 0xff, 0, 0, 0, 1]),
      undefined,
      'EXTENSION_TYPE',
      '/t',
    ],
    [
      'msgpack ext8 (record definition)',
      Uint8Array.from([0x81, 0xa1, 0x72, 0xc7, 0x01, 0x72, 0x00]),
      undefined,
      'EXTENSION_TYPE',
      '/r',
    ],
    [
      'msgpack truncated string',
      Uint8Array.from([0x81, 0xa4, 0x6e, 0x61]),
      undefined,
      'MALFORMED',
      '',
    ],
    [
      'msgpack array claiming 2^32-1 items',
      Uint8Array.from([0x81, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]),
      undefined,
      'MALFORMED',
      '/a',
    ],
    ['msgpack trailing bytes', Uint8Array.from([0x80, 0xc0]), undefined, 'MALFORMED', ''],
    [
      'msgpack reserved byte 0xc1',
      Uint8Array.from([0x81, 0xa1, 0x61, 0xc1]),
      undefined,
      'MALFORMED',
      '/a',
    ],
    ['msgpack non-string key', Uint8Array.from([0x81, 0x01, 0x02]), undefined, 'MALFORMED', ''],
    [
      'msgpack uint64 beyond 2^53',
      Uint8Array.from([0x81, 0xa1, 0x76, 0xcf, 0, 0x40, 0, 0, 0, 0, 0, 0]),
      undefined,
      'UNSAFE_INTEGER',
      '/v',
    ],
    [
      'msgpack int64 below -2^53',
      Uint8Array.from([0x81, 0xa1, 0x76, 0xd3, 0xff, 0xc0, 0, 0, 0, 0, 0, 0]),
      undefined,
      'UNSAFE_INTEGER',
      '/v',
    ],
  ];
  for (const [name, bytes, contentType, kind, path] of cases) {
    test(name, () => {
      const result = decodeDocument(bytes, limits, contentType);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect({ kind: result.error.kind as string, path: result.error.path }).toEqual({
        kind,
        path,
      });
      expect(result.error.message.length).toBeGreaterThan(5);
    });
  }

  test('msgpack key "__proto__" written by hand is refused with its path', () => {
    // {"x": {"__proto__": 1}}
    const proto = [...text('__proto__')];
    const bytes = Uint8Array.from([0x81, 0xa1, 0x78, 0x81, 0xa0 | proto.length, ...proto, 0x01]);
    const result = decodeDocument(bytes, limits);
    expect(result.ok ? null : result.error).toMatchObject({
      kind: 'FORBIDDEN_KEY',
      path: '/x/__proto__',
    });
  });

  test('msgpack nested past the cap is refused without recursing further', () => {
    const bytes = new Uint8Array(100_001).fill(0x91);
    bytes[0] = 0x81;
    bytes[1] = 0xa1;
    bytes[2] = 0x61;
    bytes[100_000] = 0xc0;
    const result = decodeDocument(bytes, { maxBytes: 200_000, maxDepth: 8 });
    expect(result.ok ? null : result.error.kind).toBe('TOO_DEEP');
  });

  test('a million nested JSON arrays are refused, not a stack overflow', () => {
    const deep = text(`{"a":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`);
    const result = decodeDocument(deep, { maxBytes: 3_000_000, maxDepth: 32 });
    expect(result.ok ? null : result.error.kind).toBe('TOO_DEEP');
  });
});

describe('decodeDocument accepts plain data', () => {
  const value = {
    tenant: 'acme',
    version: 7,
    list: [1, 2.5, 'x', null, true],
    nested: { deep: { deeper: [] } },
  };

  test('JSON, sniffed and by content type (with parameters)', () => {
    for (const contentType of [undefined, 'application/json; charset=utf-8']) {
      const result = decodeDocument(text(`  \n${JSON.stringify(value)}`), limits, contentType);
      expect(result).toMatchObject({ ok: true, value, encoding: 'json' });
    }
  });

  test('MessagePack, sniffed and by content type, decoding to the same value as JSON', () => {
    for (const contentType of [undefined, 'application/msgpack', 'application/x-msgpack']) {
      const result = decodeDocument(pack(value), limits, contentType);
      expect(result).toMatchObject({ ok: true, value, encoding: 'msgpack' });
    }
  });

  test('safe 64-bit integers in MessagePack decode as numbers', () => {
    const bytes = Uint8Array.from([
      0x81, 0xa1, 0x76, 0xcf, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    expect(decodeDocument(bytes, limits)).toMatchObject({
      ok: true,
      value: { v: Number.MAX_SAFE_INTEGER },
    });
  });

  test('deferDepthCheck leaves deep JSON to the caller unless a forbidden key may be present', () => {
    expect(decodeDocument(nested(20), limits, undefined, { deferDepthCheck: true }).ok).toBe(true);
    const risky = text(`${'{"a":'.repeat(20)}{"constructor":1}${'}'.repeat(20)}`);
    expect(
      decodeDocument(risky, { maxBytes: 4096, maxDepth: 64 }, undefined, { deferDepthCheck: true })
        .ok,
    ).toBe(false);
  });
});

describe('detectEncoding and scanMsgpack', () => {
  test('sniffs JSON after a BOM and whitespace, MessagePack maps by their first byte', () => {
    expect(detectEncoding(Uint8Array.from([0xef, 0xbb, 0xbf, 0x20, 0x7b]))).toBe('json');
    expect(detectEncoding(Uint8Array.from([0xde, 0, 1]))).toBe('msgpack');
    expect(detectEncoding(Uint8Array.from([0x22]))).toEqual({
      error: expect.stringContaining('0x22'),
    });
    expect(detectEncoding(Uint8Array.from([0x5b]))).toBe('json');
  });

  test('scanMsgpack passes every value kind msgpackr writes for plain data', () => {
    const value = {
      s: 'x'.repeat(300),
      n: -5,
      big: 2 ** 40,
      f: 1.5,
      b: false,
      z: null,
      bin: new Uint8Array([1, 2]),
      arr: Array(20).fill(1),
    };
    expect(scanMsgpack(pack(value), 8)).toBeNull();
  });
});
