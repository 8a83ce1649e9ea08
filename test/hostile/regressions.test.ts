import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDocument } from '../../src/codec/index.ts';
import { REJECTION_CODES, RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { ENVELOPE_CONTENT_TYPE } from '../../src/trust/index.ts';
import { withinBudget } from './hostile-inputs.ts';

const DIR = join(import.meta.dir, 'regressions');

describe('hostile-input regressions', () => {
  for (const name of readdirSync(DIR)
    .filter((f) => f !== 'README.md')
    .sort()) {
    test(name, () => {
      const bytes = new Uint8Array(readFileSync(join(DIR, name)));
      for (const contentType of [
        undefined,
        'application/json',
        'application/msgpack',
        ENVELOPE_CONTENT_TYPE,
      ]) {
        const decoded = withinBudget(() =>
          decodeDocument(bytes, { maxBytes: 1 << 20, maxDepth: 32 }, contentType),
        );
        if (!decoded.ok) expect(decoded.error.message.length).toBeGreaterThan(0);
        const outcome = withinBudget(() =>
          new RuleApplier(new RuleStore(1), {
            limits: { maxBytes: 1 << 20, maxDepth: 32 },
            now: Date.now,
          }).apply({
            tenant: 'acme',
            bytes,
            ...(contentType ? { contentType } : {}),
          }),
        );
        if (outcome.status === 'rejected')
          expect(REJECTION_CODES).toContain(outcome.rejection.code);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});
