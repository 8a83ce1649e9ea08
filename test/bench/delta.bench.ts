/**
 * Rule-delta cost on one host (not part of `npm test`): `npm run bench:delta`.
 * An 11,500-objective tenant (≈ 2.5 MB JSON); one-objective changes, each applied in process as a
 * delta and as the full set (alternating, same run), and the parts of a delta's apply timed apart:
 * parse, patch (with the copy of the objectives array a host makes ahead, between deltas),
 * finding what changed, digest, checks and compile of the changed objectives alone.
 * Prints medians and the ratio of delta to full.
 */
import { checkObjectiveChanges } from '../../src/rules/check-changes.ts';
import { compileObjectiveChanges } from '../../src/rules/compile-rule-set.ts';
import {
  buildRuleDelta,
  type CompiledRuleSet,
  changedElements,
  type PatchedRuleSet,
  parseRuleDelta,
  patchRuleSet,
  RuleApplier,
  type RuleDelta,
  RuleSetDigester,
  RuleStore,
} from '../../src/rules/index.ts';
import { jsonBytes, largeRuleSet, oneObjectiveChanged } from '../helpers/rule-sets.ts';

const LIMITS = { maxBytes: 64 << 20, maxDepth: 32 };
const OBJECTIVES = Number(process.env.BENCH_DELTA_OBJECTIVES ?? 11_500);
const base = largeRuleSet('acme', 1, OBJECTIVES);
const fullBytes = jsonBytes(base);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const value = f();
  return [value, performance.now() - t0];
};

const deltaStore = new RuleStore(2);
const deltaApplier = new RuleApplier(deltaStore, { limits: LIMITS, now: Date.now });
const fullStore = new RuleStore(2);
const fullApplier = new RuleApplier(fullStore, { limits: LIMITS, now: Date.now });
// The first delta after a full set: with the base's digest cold, and warmed off the hot path.
{
  const cold = new RuleApplier(new RuleStore(2), { limits: LIMITS, now: Date.now });
  cold.apply({ tenant: 'acme', bytes: fullBytes });
  const warmed = new RuleApplier(new RuleStore(2), { limits: LIMITS, now: Date.now });
  warmed.apply({ tenant: 'acme', bytes: fullBytes });
  const [, warmMs] = time(() => warmed.prepareForDelta('acme'));
  await warmed.prepareForDelta('acme');
  const first = jsonBytes(buildRuleDelta(base, oneObjectiveChanged(base, 2)));
  const [, coldMs] = time(() => cold.apply({ tenant: 'acme', bytes: first }));
  const [, warmedMs] = time(() => warmed.apply({ tenant: 'acme', bytes: first }));
  console.log(
    `first delta after a full set: ${coldMs.toFixed(1)} ms with the digest cold, ${warmedMs.toFixed(1)} ms warmed (warming started in ${warmMs.toFixed(1)} ms, then ran in turns)\n`,
  );
}
deltaApplier.apply({ tenant: 'acme', bytes: fullBytes });
fullApplier.apply({ tenant: 'acme', bytes: fullBytes });
const parts: Record<string, number[]> = {};
const lap = (name: string, ms: number) => {
  parts[name] ??= [];
  parts[name].push(ms);
};
const digester = new RuleSetDigester();
digester.digest((deltaStore.active('acme') as CompiledRuleSet).ruleSet);
let previous = base;
let deltaSize = 0;
for (let v = 2; v <= 62; v++) {
  const next = oneObjectiveChanged(previous, v);
  const bytes = jsonBytes(buildRuleDelta(previous, next));
  deltaSize = bytes.byteLength;
  // The parts, on their own, as the applier runs them on top of the active set.
  const active = deltaStore.active('acme') as CompiledRuleSet;
  const [parsed, parse] = time(() => parseRuleDelta(bytes, LIMITS));
  const delta = (parsed as { value: RuleDelta }).value;
  const [patched, patch] = time(() => patchRuleSet(active.ruleSet, delta));
  const { ruleSet: result, touched } = (patched as { value: PatchedRuleSet }).value;
  const [changes, find] = time(() =>
    changedElements(active.ruleSet.objectives, result.objectives, touched.objectives),
  );
  lap('parse', parse);
  lap('patch, copy included', patch);
  lap('what changed', find);
  lap('digest', time(() => digester.digest(result, active.ruleSet, touched))[1]);
  lap('checks (changed only)', time(() => checkObjectiveChanges(result, active, changes))[1]);
  lap(
    'compile (changed only)',
    time(() =>
      compileObjectiveChanges(
        { ruleSet: result, raw: new Uint8Array(), encoding: 'json', appliedAt: 0 },
        active,
        changes,
      ),
    )[1],
  );
  // The whole, against the full set of the same version.
  const [outcome, whole] = time(() => deltaApplier.apply({ tenant: 'acme', bytes }));
  if (outcome.status !== 'applied')
    throw new Error(`delta not applied: ${JSON.stringify(outcome)}`);
  // As a host does between deltas: the next patch's array copies made ahead (not timed).
  await deltaApplier.prepareForDelta('acme');
  const nextBytes = jsonBytes(next);
  const [full, fullMs] = time(() => fullApplier.apply({ tenant: 'acme', bytes: nextBytes }));
  if (full.status !== 'applied') throw new Error('full set not applied');
  if (v > 2) {
    lap('delta: whole apply', whole);
    lap('full set: whole apply', fullMs);
  }
  // The next change starts from the set just applied (structurally shared, as on a host).
  previous = (deltaStore.active('acme') as CompiledRuleSet).ruleSet;
  digester.digest(previous, active.ruleSet, touched);
}
console.log(
  `rule deltas — ${new Date().toISOString()}, Bun ${Bun.version}; ${OBJECTIVES} objectives, full set ${fullBytes.byteLength} bytes, a one-objective delta ${deltaSize} bytes (${((100 * deltaSize) / fullBytes.byteLength).toFixed(3)} %)\n`,
);
for (const [name, xs] of Object.entries(parts))
  console.log(`${name.padEnd(24)} median ${median(xs).toFixed(2)} ms`);
const d = median(parts['delta: whole apply'] as number[]);
const f = median(parts['full set: whole apply'] as number[]);
console.log(`\ndelta ÷ full set, whole apply: ${(d / f).toFixed(2)}`);
