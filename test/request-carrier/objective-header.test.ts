import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
  CARRIED_FIELDS,
  MAX_HEADER_BYTES,
  objectiveBodyMember,
  readObjectiveFromBody,
  readObjectiveHeader,
  writeObjectiveHeader,
} from '../../src/request-carrier/index.ts';
import * as resolver from '../../src/resolver/index.ts';
import type { ObjectiveConfig } from '../../src/validation/index.ts';

const CONFIG: ObjectiveConfig = {
  tenant: 'acme',
  objective: 'chat',
  model: 'llama-8b',
  modelVersion: '2026-10-01',
  ruleVersion: 7,
  schemaId: 'chat/v1',
  routingKey: 'acme.llama-8b',
  cell: 'b',
};

/** Any text a field may hold: unicode (astral too), quotes, commas, backslashes, control chars. */
const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 });
const configs = fc.record(
  {
    tenant: text,
    objective: text,
    model: text,
    modelVersion: text,
    ruleVersion: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    schemaId: text,
    routingKey: text,
    cell: text,
  },
  { requiredKeys: CARRIED_FIELDS.filter((f) => f !== 'cell') },
);

describe('the Filament-Objective header', () => {
  test('a typical config: one token, well under 1 KB, read back as written', () => {
    const header = writeObjectiveHeader(CONFIG);
    expect(header).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(header.length).toBeLessThan(400);
    expect(readObjectiveHeader(header)).toEqual({ ok: true, value: CONFIG });
    // The resolver library offers the same two functions.
    expect(resolver.writeObjectiveHeader).toBe(writeObjectiveHeader);
    expect(resolver.readObjectiveHeader).toBe(readObjectiveHeader);
    expect(resolver.OBJECTIVE_HEADER).toBe('filament-objective');
  });

  test('round-trips any values: quotes, commas, unicode, long strings (property)', () => {
    fc.assert(
      fc.property(configs, (config) => {
        const header = writeObjectiveHeader(config);
        expect(header).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
        expect(readObjectiveHeader(header)).toEqual({ ok: true, value: config });
        expect(readObjectiveHeader([header])).toEqual({ ok: true, value: config });
      }),
      { numRuns: 500 },
    );
  });

  test('never throws, and never reads a config out of what no writer made (property)', () => {
    const written = new Set<string>();
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^v1\.[A-Za-z0-9_-]{0,80}$/)),
        (value) => {
          const result = readObjectiveHeader(value);
          if (result.ok) {
            // Only a value that is exactly what the writer makes of its own result is read.
            expect(writeObjectiveHeader(result.value)).toBe(value.trim());
            written.add(value);
          } else expect(result.error.message.length).toBeGreaterThan(10);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('each way to get it wrong, with what was wrong', () => {
    const header = writeObjectiveHeader(CONFIG);
    const refusal = (value: Parameters<typeof readObjectiveHeader>[0]) => {
      const result = readObjectiveHeader(value);
      return result.ok ? 'read' : `${result.error.code}: ${result.error.message}`;
    };
    const encode = (json: string) => `v1.${Buffer.from(json).toString('base64url')}`;
    expect(refusal(undefined)).toBe(
      'CARRIER_MISSING: the request has no Filament-Objective header',
    );
    expect(refusal([])).toBe('CARRIER_MISSING: the request has no Filament-Objective header');
    expect(refusal('  ')).toBe('CARRIER_MISSING: the Filament-Objective header is empty');
    expect(refusal([header, header])).toBe(
      'CARRIER_DUPLICATED: the Filament-Objective header is sent 2 times; send it once',
    );
    expect(refusal(`${header}, ${header}`)).toBe(
      'CARRIER_DUPLICATED: the Filament-Objective header holds several values joined by commas: send it once',
    );
    expect(refusal(`v1.${'A'.repeat(MAX_HEADER_BYTES)}`)).toMatch(
      /^CARRIER_TOO_LARGE: the Filament-Objective header is 4099 bytes; at most 4096$/,
    );
    expect(refusal(`v2.${header.slice(3)}`)).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header is version 2 of the contract; this host reads version 1',
    );
    expect(refusal('tenant=acme')).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header must be "v1." and base64url (letters, digits, "-", "_"), got "tenant=acme"',
    );
    expect(refusal(`${header}=`)).toMatch(/^CARRIER_MALFORMED: .* must be "v1\." and base64url/);
    expect(refusal('v1.QQ')).toMatch(
      /^CARRIER_MALFORMED: the Filament-Objective header does not hold JSON/,
    );
    expect(refusal('v1.QR')).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header is not canonical base64url',
    );
    expect(refusal(encode('[1]'))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header must hold a JSON object',
    );
    const { routingKey: _, ...noKey } = CONFIG;
    expect(refusal(encode(JSON.stringify(noKey)))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header lacks "routingKey" (a non-empty string)',
    );
    expect(refusal(encode(JSON.stringify({ ...CONFIG, ruleVersion: 1.5 })))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header lacks "ruleVersion" (a positive integer)',
    );
    expect(refusal(encode(JSON.stringify({ ...CONFIG, extra: 1 })))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header has an unknown member "extra"',
    );
    expect(refusal(encode(JSON.stringify({ ...CONFIG, model: 'm'.repeat(257) })))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header: "model" is 257 characters; at most 256',
    );
    expect(refusal(encode('{"tenant":"\\ud83d"}'))).toMatch(
      /^CARRIER_MALFORMED: the Filament-Objective header does not hold JSON: .*surrogate/,
    );
    expect(refusal(encode('{"__proto__":{}}'))).toMatch(
      /^CARRIER_MALFORMED: the Filament-Objective header does not hold JSON: .*__proto__/,
    );
    const twice = JSON.stringify(CONFIG).replace('{', '{"model":"other",');
    expect(refusal(encode(twice))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header names the member "model" twice',
    );
    const escaped = JSON.stringify(CONFIG).replace('{', '{"\\u006dodel":"other",');
    expect(refusal(encode(escaped))).toBe(
      'CARRIER_MALFORMED: the Filament-Objective header names the member "model" twice',
    );
  });
});

describe('the body form', () => {
  test('the member reads as the header does, and round-trips (property)', () => {
    fc.assert(
      fc.property(configs, (config) => {
        const body = JSON.parse(
          JSON.stringify({ messages: [], filament: objectiveBodyMember(config) }),
        );
        expect(readObjectiveFromBody(body)).toEqual({ ok: true, value: config });
      }),
      { numRuns: 200 },
    );
    expect(readObjectiveFromBody({ x: objectiveBodyMember(CONFIG) }, 'x')).toEqual({
      ok: true,
      value: CONFIG,
    });
  });

  test('what is wrong, said', () => {
    const say = (payload: unknown) => {
      const r = readObjectiveFromBody(payload);
      return r.ok ? 'read' : `${r.error.code}: ${r.error.message}`;
    };
    expect(say([1])).toBe(
      'CARRIER_MISSING: the payload is not a JSON object, so it carries no ObjectiveConfig',
    );
    expect(say({ prompt: 'x' })).toBe('CARRIER_MISSING: the payload has no "filament" member');
    expect(say({ filament: 'v1.abc' })).toBe(
      'CARRIER_MALFORMED: the payload\'s "filament" member must hold a JSON object',
    );
  });
});

describe('the contract as documented', () => {
  test('the example in docs/wire-contracts.md reads as the JSON shown beside it, and the schema agrees', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { createAjv } = await import('../../src/schema-compiler/index.ts');
    const root = join(import.meta.dir, '..', '..');
    const docs = await readFile(join(root, 'docs', 'wire-contracts.md'), 'utf8');
    const header = /^Filament-Objective: (v1\.\S+)$/m.exec(docs)?.[1];
    const shown = /^(\{"tenant":"acme".*"cell":"b"\})$/m.exec(docs)?.[1];
    expect(readObjectiveHeader(header)).toEqual({ ok: true, value: JSON.parse(shown ?? '') });
    expect(writeObjectiveHeader(JSON.parse(shown ?? ''))).toBe(header as string);
    const schema = JSON.parse(
      await readFile(join(root, 'src', 'request-carrier', 'objective-carrier.schema.json'), 'utf8'),
    );
    const valid = createAjv().compile(schema);
    fc.assert(
      fc.property(configs, (config) => {
        expect(valid(config)).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(valid({ ...CONFIG, extra: 1 })).toBe(false);
    expect(valid({ ...CONFIG, ruleVersion: 0 })).toBe(false);
    expect(valid({ ...CONFIG, model: '' })).toBe(false);
  });
});
