import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { type ObjectiveConfig, REASON_CODES } from '../../src/validation/index.ts';
import { validationFixture } from '../helpers/validation-fixture.ts';
import { hostileDocuments, RUNS, withinBudget } from './hostile-inputs.ts';

/** A field value a hostile caller might send where a string or number belongs. */
const oddValue = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom('', '__proto__', 'constructor', '\u0000', '\ud800', 'a'.repeat(100_000)),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 2 ** 64, Number.MAX_SAFE_INTEGER + 2),
  fc.constant(null),
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('hostile validation requests', () => {
  const { validator, config } = validationFixture();
  const good = config();
  const fields = Object.keys(good) as Array<keyof ObjectiveConfig>;

  test('any ObjectiveConfig, any payload: a verdict with a reason code, never an exception', () => {
    const payload = fc.oneof(
      fc.constant(undefined),
      hostileDocuments(new Uint8Array(pack({ messages: [{ role: 'user', content: 'hi' }] }))).map(
        (bytes) => ({ bytes }),
      ),
      fc
        .tuple(
          fc.uint8Array({ maxLength: 256 }),
          fc.constantFrom('application/json', 'application/msgpack', 'image/png'),
        )
        .map(([bytes, contentType]) => ({ bytes, contentType })),
      fc.jsonValue({ maxDepth: 6 }).map((value) => ({ value })),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...fields), oddValue), { maxLength: 4 }),
        payload,
        (changes, body) => {
          const request = { ...good } as Record<string, unknown>;
          for (const [field, value] of changes) request[field] = value;
          const verdict = withinBudget(() =>
            validator.validate(request as unknown as ObjectiveConfig, body),
          );
          if (!verdict.ok) {
            expect(REASON_CODES).toContain(verdict.code);
            expect(verdict.message.length).toBeGreaterThan(0);
          } else expect(verdict.ruleVersion).toBeGreaterThan(0);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
