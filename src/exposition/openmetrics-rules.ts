import { parseFloatValue } from './numbers.ts';
import type { MetricType, Sample } from './types.ts';

/** A family while an OpenMetrics body is read, with what its rules need to remember. */
export interface OpenMetricsFamily {
  name: string;
  type: MetricType | undefined;
  help?: string;
  unit?: string;
  samples: Sample[];
  /** The sample names this family's type writes. */
  allowed: readonly string[];
  /** Every series group seen so far (a group may not come back once another began). */
  groups: Set<string>;
  lastGroup?: string;
  lastTimestamp?: number | undefined;
}

const COUNTER_LIKE = new Set(['_total', '_sum', '_count', '_bucket', '_gcount', '_gsum']);

/** The label that does not tell a series apart within its group (`le`, `quantile`, the state). */
function groupKey(family: OpenMetricsFamily, sample: Sample): string {
  const { type, name } = family;
  if (type === 'info') return '';
  let skip: string | undefined;
  if (type === 'summary' && sample.name === name) skip = 'quantile';
  else if (type === 'stateset') skip = name;
  else if ((type === 'histogram' || type === 'gaugehistogram') && sample.name === `${name}_bucket`)
    skip = 'le';
  const keys = Object.keys(sample.labels)
    .filter((k) => k !== skip)
    .sort();
  return keys.map((k) => `${k}\u0000${sample.labels[k]}`).join('\u0001');
}

/** `+Inf` and `-Inf` are the only spellings of the infinities OpenMetrics allows in `le`/`quantile`. */
function canonicalBound(text: string, value: number): boolean {
  return Number.isFinite(value) || text === '+Inf' || text === '-Inf';
}

/**
 * What is wrong with one sample of `family`, by OpenMetrics 1.0's rules, or `undefined`: label and
 * value rules per type, exemplar placement, grouping of series and the order of timestamps.
 */
export function sampleProblem(family: OpenMetricsFamily, sample: Sample): string | undefined {
  const { type, name } = family;
  const { labels, value } = sample;
  const suffix = sample.name.slice(name.length);
  if (type === 'stateset' && labels[name] === undefined)
    return `state set ${JSON.stringify(name)} needs a label named ${JSON.stringify(name)}`;
  if (suffix === '_bucket' && (type === 'histogram' || type === 'gaugehistogram')) {
    const le = labels.le;
    const bound = le === undefined ? undefined : parseFloatValue(le);
    if (
      le === undefined ||
      bound === undefined ||
      Number.isNaN(bound) ||
      !canonicalBound(le, bound)
    )
      return `bucket of ${JSON.stringify(name)} needs a numeric le label, got ${JSON.stringify(le ?? null)}`;
    if (!Number.isInteger(value))
      return `bucket of ${JSON.stringify(name)} must hold a whole number`;
  }
  if ((suffix === '_count' || suffix === '_gcount') && !Number.isInteger(value))
    return `${sample.name} must be a whole number`;
  if (type === 'summary' && suffix === '') {
    const q = labels.quantile;
    const quantile = q === undefined ? undefined : parseFloatValue(q);
    if (q === undefined || quantile === undefined || !(quantile >= 0 && quantile <= 1))
      return `summary ${JSON.stringify(name)} needs a quantile label between 0 and 1, got ${JSON.stringify(q ?? null)}`;
    if (value < 0) return `quantile values of ${JSON.stringify(name)} cannot be negative`;
  }
  const group = groupKey(family, sample);
  if (family.lastGroup !== undefined && group !== family.lastGroup && family.groups.has(group))
    return `the series of ${JSON.stringify(name)} are not kept together (a series came back after another began)`;
  if (family.lastGroup !== undefined && group === family.lastGroup) {
    const last = family.lastTimestamp;
    if ((sample.timestampMs === undefined) !== (last === undefined))
      return `some samples of one ${JSON.stringify(name)} series have timestamps and some do not`;
    if (
      last !== undefined &&
      sample.timestampMs !== undefined &&
      sample.timestampMs < last &&
      type !== 'info'
    )
      return `timestamps of a ${JSON.stringify(name)} series went backwards`;
  }
  family.lastGroup = group;
  family.lastTimestamp = sample.timestampMs;
  family.groups.add(group);
  if (type === 'stateset' && value !== 0 && value !== 1)
    return `state set samples can only be 0 or 1, got ${value}`;
  if (type === 'info' && value !== 1) return `info samples can only be 1, got ${value}`;
  if (COUNTER_LIKE.has(suffix) && Number.isNaN(value)) return `${sample.name} cannot be NaN`;
  if (COUNTER_LIKE.has(suffix) && suffix !== '_gsum' && value < 0)
    return `${sample.name} cannot be negative`;
  if (sample.exemplar !== undefined) {
    const bucket =
      (type === 'histogram' || type === 'gaugehistogram') && sample.name.endsWith('_bucket');
    const total = type === 'counter' && sample.name.endsWith('_total');
    if (!bucket && !total) return 'only counters and histogram buckets may carry exemplars';
  }
  return undefined;
}

/**
 * A family's names must not clash with another family's, nor may a family come back once another
 * began; a UNIT must end its name and is not allowed on info or state sets.
 */
export function familyClash(
  family: OpenMetricsFamily,
  suffixes: readonly string[],
  seen: Set<string>,
): string | undefined {
  for (const suffix of new Set([...suffixes, ''])) {
    const name = family.name + suffix;
    if (seen.has(name))
      return `${JSON.stringify(name)} appears in two places (a family came back, or two families share a name)`;
    seen.add(name);
  }
  const { unit, type, name } = family;
  if (unit) {
    if (!name.endsWith(`_${unit}`))
      return `unit ${JSON.stringify(unit)} does not end the name ${JSON.stringify(name)}`;
    if (type === 'info' || type === 'stateset') return `${type} families cannot have a unit`;
  }
  return undefined;
}

/**
 * Each histogram series (a run of samples with one label set and timestamp): buckets in rising
 * order ending at `+Inf`, never shrinking, `_count` equal to the `+Inf` bucket, `_count` and `_sum`
 * together, no `_sum` beside negative buckets, a negative `_gsum` only with negative buckets.
 */
export function checkHistogram(family: OpenMetricsFamily): string | undefined {
  if (family.type !== 'histogram' && family.type !== 'gaugehistogram') return undefined;
  const name = family.name;
  let run: Run | undefined;
  for (const sample of family.samples) {
    const group = groupKey(family, sample);
    if (run === undefined || run.group !== group || run.timestampMs !== sample.timestampMs) {
      const problem = run === undefined ? undefined : finishRun(run, name);
      if (problem !== undefined) return problem;
      run = {
        group,
        timestampMs: sample.timestampMs,
        value: 0,
        negativeBuckets: false,
        sum: false,
        gsum: false,
        negativeGsum: false,
      };
    }
    const suffix = sample.name.slice(name.length);
    if (suffix === '_bucket') {
      const bound = parseFloatValue(sample.labels.le as string) as number;
      if (bound < 0) run.negativeBuckets = true;
      if (run.bucket !== undefined && bound <= run.bucket)
        return `buckets of ${JSON.stringify(name)} are out of order`;
      if (sample.value < run.value) return `bucket counts of ${JSON.stringify(name)} go down`;
      run.bucket = bound;
      run.value = sample.value;
    } else if (suffix === '_count' || suffix === '_gcount') run.count = sample.value;
    else if (suffix === '_sum') run.sum = true;
    else if (suffix === '_gsum') {
      run.gsum = true;
      if (sample.value < 0) run.negativeGsum = true;
    }
  }
  return run === undefined ? undefined : finishRun(run, name);
}

interface Run {
  group: string;
  timestampMs: number | undefined;
  bucket?: number;
  value: number;
  count?: number;
  negativeBuckets: boolean;
  sum: boolean;
  gsum: boolean;
  negativeGsum: boolean;
}

function finishRun(run: Run, name: string): string | undefined {
  const n = JSON.stringify(name);
  if (run.bucket !== Number.POSITIVE_INFINITY) return `histogram ${n} has no +Inf bucket`;
  if (run.count !== undefined && run.count !== run.value)
    return `the count of histogram ${n} is not its +Inf bucket`;
  if ((run.sum || run.gsum) && run.count === undefined)
    return `histogram ${n} has a sum but no count`;
  if (!(run.sum || run.gsum) && run.count !== undefined)
    return `histogram ${n} has a count but no sum`;
  if (run.negativeBuckets && run.sum) return `histogram ${n} has negative buckets and a _sum`;
  if (!run.negativeBuckets && run.negativeGsum)
    return `gauge histogram ${n} has a negative _gsum but no negative buckets`;
  return undefined;
}
