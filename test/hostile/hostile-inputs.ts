import fc from 'fast-check';
import { pack } from 'msgpackr';

/** How many cases each property tries: bounded in CI, `FUZZ_RUNS=20000` for a long run. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

/** A hang guard, not a speed target: no single hostile input may take this long. */
export const PER_INPUT_BUDGET_MS = 2000;

const utf8 = (s: string) => new TextEncoder().encode(s);

/** MessagePack headers that declare far more data than follows (str32, bin32, array32, map32). */
export const hugeDeclaredLengths = fc
  .constantFrom(0xdb, 0xc6, 0xdd, 0xdf)
  .chain((tag) =>
    fc.tuple(
      fc.constant(tag),
      fc.integer({ min: 0x1000_0000, max: 0xffff_ffff }),
      fc.uint8Array({ maxLength: 16 }),
    ),
  )
  .map(([tag, length, rest]) => {
    const out = new Uint8Array(5 + rest.length);
    out[0] = tag;
    new DataView(out.buffer).setUint32(1, length);
    out.set(rest, 5);
    return out;
  });

/** Every MessagePack extension format (fixext 1–16, ext 8/16/32) with any type byte. */
export const msgpackExtensions = fc
  .tuple(
    fc.constantFrom(0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7, 0xc8, 0xc9),
    fc.integer({ min: 0, max: 255 }),
  )
  .map(([tag, type]) => {
    const sizes: Record<number, number> = { 212: 1, 213: 2, 214: 4, 215: 8, 216: 16 };
    const data = sizes[tag] ?? 3;
    const header =
      tag === 0xc7
        ? [tag, data, type]
        : tag === 0xc8
          ? [tag, 0, data, type]
          : tag === 0xc9
            ? [tag, 0, 0, 0, data, type]
            : [tag, type];
    // Inside a map, where a rule set's field would be.
    return new Uint8Array([0x81, 0xa7, ...utf8('version'), ...header, ...new Array(data).fill(1)]);
  });

/** Nesting far beyond any cap, in both encodings. */
export const deepNesting = fc
  .tuple(fc.integer({ min: 33, max: 20_000 }), fc.boolean())
  .map(([depth, json]) =>
    json
      ? utf8(`${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`)
      : new Uint8Array([...new Array(depth).fill(0x91), 0x01]),
  );

/** Strings that are not UTF-8, in JSON and in MessagePack str. */
export const invalidUtf8 = fc
  .constantFrom(
    [0xc3, 0x28],
    [0xa0, 0xa1],
    [0xe2, 0x28, 0xa1],
    [0xf0, 0x28, 0x8c, 0x28],
    [0xff],
    [0xed, 0xa0, 0x80],
  )
  .chain((bad) =>
    fc.constantFrom(
      new Uint8Array([...utf8('{"tenant":"'), ...bad, ...utf8('"}')]),
      new Uint8Array([0x81, 0xa6, ...utf8('tenant'), 0xa0 + bad.length, ...bad]),
    ),
  );

/** NaN, ±Infinity and integers beyond 2^53, where JSON cannot carry them and MessagePack can. */
export const unsafeNumbers = fc.constantFrom(
  utf8('{"version":NaN}'),
  utf8('{"version":Infinity}'),
  utf8('{"version":9007199254740993}'),
  utf8('{"version":1e400}'),
  new Uint8Array([0x81, 0xa7, ...utf8('version'), 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), // NaN
  new Uint8Array([0x81, 0xa7, ...utf8('version'), 0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]), // +Inf
  new Uint8Array([
    0x81,
    0xa7,
    ...utf8('version'),
    0xcf,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
  ]),
  new Uint8Array([0x81, 0xa7, ...utf8('version'), 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]),
);

/** Duplicate keys and prototype-polluting keys, in both encodings. */
export const trickyKeys = fc
  .tuple(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'version', 'tenant'),
    fc.jsonValue({ maxDepth: 2 }),
  )
  .chain(([key, value]) =>
    fc.constantFrom(
      utf8(`{"tenant":"acme","${key}":${JSON.stringify(value) ?? 'null'},"${key}":1}`),
      utf8(`{"models":[{"${key}":{"polluted":true}}]}`),
      new Uint8Array([0x82, 0xa1, ...utf8('a'), 0x01, 0xa1, ...utf8('a'), 0x02]),
      pack({ tenant: 'acme', nested: JSON.parse(`{"${key}":{"polluted":true}}`) }),
    ),
  );

/** Cuts and single-byte changes of a valid document. */
export function mutationsOf(valid: Uint8Array) {
  return fc
    .tuple(fc.nat(valid.length), fc.nat(valid.length - 1), fc.nat(255))
    .map(([cut, at, byte]) => {
      const copy = valid.slice(0, Math.max(1, cut));
      if (at < copy.length) copy[at] = byte;
      return copy;
    });
}

/** Every kind above plus plain random bytes. */
export function hostileDocuments(valid: Uint8Array) {
  return fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    hugeDeclaredLengths,
    msgpackExtensions,
    deepNesting,
    invalidUtf8,
    unsafeNumbers,
    trickyKeys,
    mutationsOf(valid),
  );
}

/** Runs `fn` and fails if it took longer than the per-input budget (a hang guard). */
export function withinBudget<T>(fn: () => T): T {
  const t0 = performance.now();
  const result = fn();
  const took = performance.now() - t0;
  if (took > PER_INPUT_BUDGET_MS) throw new Error(`one input took ${took.toFixed(0)} ms`);
  return result;
}
