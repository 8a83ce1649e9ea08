import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { METRIC_PRESETS } from '../../src/saturation/index.ts';
import { readSignals } from '../../src/saturation/read-signals.ts';
import { RUNS, withinBudget } from './hostile-inputs.ts';

const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'metrics');
const captures = [
  'vllm-v0-llama-3.1-8b.prom',
  'sglang-llama-3.1-8b.prom',
  'triton-trtllm.prom',
].map((f) => readFileSync(join(FIXTURES, f), 'utf8'));

/** Lines a broken or hostile model server could print. */
const oddLine = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    'vllm:num_requests_waiting{model_name="x"} NaN',
    'vllm:num_requests_waiting{model_name="x"} +Inf',
    'vllm:num_requests_waiting{model_name="x"} -1e309',
    'vllm:num_requests_waiting{model_name="x\\"} 1',
    `vllm:num_requests_waiting{${'a="b",'.repeat(5000)}} 1`,
    '# TYPE vllm:num_requests_waiting histogram',
    '# HELP',
    'vllm:num_requests_waiting 1 1 1 1',
    '{} 1',
    '\u0000\u0000',
    'x'.repeat(100_000),
  ),
);

describe('hostile /metrics text', () => {
  test('real captures cut, spliced with odd lines, or replaced: a reading or an error, never an exception', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...captures),
        fc.nat(),
        fc.array(oddLine, { maxLength: 5 }),
        fc.constantFrom(...Object.keys(METRIC_PRESETS)),
        (capture, cut, extra, presetName) => {
          const text = `${capture.slice(0, cut % (capture.length + 1))}\n${extra.join('\n')}`;
          const preset = METRIC_PRESETS[presetName];
          if (!preset) throw new Error(`no preset ${presetName}`);
          const reading = withinBudget(() => readSignals(text, preset, 1000));
          if ('error' in reading) expect(reading.error.length).toBeGreaterThan(0);
          else
            for (const signal of Object.values(reading.signals))
              expect(Number.isNaN(signal?.value)).toBe(false);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
