import { LineScanner } from './line-scanner.ts';
import type { NameFilter } from './name-filter.ts';
import { parseFloatValue, parseIntTimestamp } from './numbers.ts';
import type { ExpositionResult, Family, MetricType, Sample } from './types.ts';

/** A family while its body is read (the public `Family` is the same object, read-only). */
interface OpenFamily {
  name: string;
  type: MetricType | undefined;
  help?: string;
  samples: Sample[];
}

const TEXT_TYPES: Readonly<Record<string, MetricType>> = {
  COUNTER: 'counter',
  GAUGE: 'gauge',
  HISTOGRAM: 'histogram',
  SUMMARY: 'summary',
  UNTYPED: 'untyped',
  GAUGEHISTOGRAM: 'gaugehistogram',
  GAUGE_HISTOGRAM: 'gaugehistogram',
};

const isHistogram = (t: MetricType | undefined) => t === 'histogram' || t === 'gaugehistogram';

/**
 * Reads Prometheus text exposition 0.0.4 as prometheus/common's `expfmt.TextParser` reads it
 * (UTF-8 validation scheme): the same families, the same series, the same refusals. Differences,
 * each on purpose, are in docs/metrics-reading.md: a last line without a newline is read, not
 * refused; a summary's negative `_count` is refused.
 */
export function parseText(text: string, filter: NameFilter | undefined): ExpositionResult {
  const reader = new TextReader(filter);
  const n = text.length;
  let start = 0;
  let line = 0;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    line++;
    const problem = reader.line(text, start, end);
    if (problem !== undefined) return { ok: false, error: { line, message: problem } };
    start = end + 1;
  }
  return { ok: true, families: reader.families() };
}

class TextReader {
  private readonly byName = new Map<string, OpenFamily>();
  private readonly s = new LineScanner();
  private readonly labelNames: string[] = [];
  private readonly labelValues: string[] = [];
  /** The last sample line's name, label names and plain label values: lines repeat them. */
  private lastMetric = '';
  private lastFamily: OpenFamily | undefined;
  private readonly lastNames: string[] = [];
  private readonly lastValues: string[] = [];

  constructor(private readonly filter: NameFilter | undefined) {}

  /** The name `lastFamily` was looked up for. */
  private lastFamilyOf = '';

  /** Keeps this line's names and escape-free values for the next line to take in place. */
  private remember(metric: string, names: readonly string[], values: readonly string[]): void {
    this.lastMetric = metric;
    const n = this.lastNames;
    const v = this.lastValues;
    n.length = 0;
    v.length = 0;
    for (let i = 0; i < names.length; i++) {
      n.push(names[i] as string);
      const value = values[i] as string;
      v.push(plain(value) ? value : '\u0000never');
    }
  }

  families(): ReadonlyMap<string, Family> {
    const out = new Map<string, Family>();
    for (const [name, family] of this.byName)
      if (family.samples.length > 0) out.set(name, family as Family);
    return out;
  }

  /** Reads one line; returns what was wrong with it, or `undefined`. */
  line(text: string, start: number, end: number): string | undefined {
    const s = this.s;
    s.line(text, start, end);
    s.skipBlanks();
    const c = s.peek();
    if (c === -1) return undefined;
    if (c === 35) return this.comment();
    if (this.filter !== undefined && c !== 123) {
      // A plain name first: pass over a family nobody asked for without reading further.
      const to = s.plainNameEnd(true);
      if (to > s.pos && !this.filter.wants(text, s.pos, to)) return undefined;
    }
    return this.sample(c === 123);
  }

  /**
   * The family a name belongs to, made if new: `x_sum`/`x_count` belong to a summary or histogram
   * `x` seen before, `x_bucket` to a histogram `x`; any other name is a family of its own.
   */
  private familyOf(name: string): OpenFamily {
    const own = this.byName.get(name);
    if (own !== undefined) return own;
    const base = baseOf(name, false);
    if (base !== undefined) {
      const f = this.byName.get(base);
      if (f !== undefined && (f.type === 'summary' || isHistogram(f.type))) return f;
    }
    const bucketBase = baseOf(name, true);
    if (bucketBase !== undefined) {
      const f = this.byName.get(bucketBase);
      if (f !== undefined && isHistogram(f.type)) return f;
    }
    const made: OpenFamily = { name, type: undefined, samples: [] };
    this.byName.set(name, made);
    return made;
  }

  private comment(): string | undefined {
    const s = this.s;
    s.pos++;
    s.skipBlanks();
    if (s.peek() === -1) return undefined;
    const from = s.skipToken();
    const keyword = s.tokenIs(from, 'HELP') ? 'HELP' : s.tokenIs(from, 'TYPE') ? 'TYPE' : undefined;
    if (s.peek() === -1 || keyword === undefined) return undefined;
    s.skipBlanks();
    if (this.filter !== undefined && s.peek() !== 34) {
      // A plain name of a family nobody asked for: passed over before anything is copied.
      const to = s.plainNameEnd(true);
      if (to > s.pos && !this.filter.wants(s.text, s.pos, to)) return undefined;
    }
    const bad = s.readName(true, 'metric name');
    if (bad !== undefined) return bad;
    const name = s.token;
    if (s.peek() === -1) return undefined;
    if (!s.atBlank())
      return `invalid metric name in comment: ${JSON.stringify(name)} is followed by ${JSON.stringify(s.text[s.pos])}`;
    if (this.filter !== undefined && !this.filter.wantsName(name)) return undefined;
    const family = this.familyOf(name);
    s.skipBlanks();
    if (s.peek() === -1) return undefined;
    if (keyword === 'HELP') {
      if (family.help !== undefined)
        return `second HELP line for metric name ${JSON.stringify(family.name)}`;
      const problem = s.readHelp();
      if (problem !== undefined) return problem;
      family.help = s.token;
      return undefined;
    }
    if (family.type !== undefined)
      return `second TYPE line for metric name ${JSON.stringify(family.name)}, or TYPE reported after samples`;
    const word = s.text.slice(s.pos, s.end);
    const type = TEXT_TYPES[word.toUpperCase()];
    if (type === undefined) return `unknown metric type ${JSON.stringify(word)}`;
    family.type = type;
    return undefined;
  }

  private sample(braces: boolean): string | undefined {
    const s = this.s;
    const names = this.labelNames;
    const values = this.labelValues;
    names.length = 0;
    values.length = 0;
    let metric: string | undefined;
    let inLabels = braces;
    if (braces) s.pos++;
    else {
      if (!s.takeName(this.lastMetric, true)) {
        const bad = s.readName(true, 'metric name');
        if (bad !== undefined) return bad;
        if (s.token === '') return 'invalid metric name';
      }
      metric = s.token;
      s.skipBlanks();
      if (s.peek() === 123) {
        s.pos++;
        inLabels = true;
      }
    }
    while (inLabels) {
      s.skipBlanks();
      if (s.peek() === 125) {
        s.pos++;
        break;
      }
      const k = names.length;
      const knownName = this.lastNames[k];
      if (knownName === undefined || !s.takeName(knownName, false)) {
        const bad = s.readName(false, 'label name');
        if (bad !== undefined) return bad;
      }
      const label = s.token;
      if (label === '') return `invalid label name for metric ${JSON.stringify(metric ?? '')}`;
      s.skipBlanks();
      const c = s.peek();
      if (c !== 61) {
        if (braces && (c === 44 || c === 125)) {
          if (metric !== undefined) return 'multiple metric names';
          metric = label;
          s.pos++;
          if (c === 125) break;
          continue;
        }
        return braces
          ? `unexpected end of metric name ${JSON.stringify(label)} (found ${JSON.stringify(s.text[s.pos] ?? '\n')})`
          : `expected '=' after label name, found ${JSON.stringify(s.text[s.pos] ?? '\n')}`;
      }
      s.pos++;
      if (label === '__name__') return 'label name "__name__" is reserved';
      if (names.includes(label))
        return `duplicate label names for metric ${JSON.stringify(metric ?? '')}`;
      s.skipBlanks();
      if (s.peek() !== 34)
        return `expected '"' at start of label value, found ${JSON.stringify(s.text[s.pos] ?? '\n')}`;
      const knownValue = this.lastValues[k];
      if (knownValue === undefined || !s.takeQuoted(knownValue)) {
        const badValue = s.readQuoted('label value');
        if (badValue !== undefined) return badValue;
      }
      names.push(label);
      values.push(s.token);
      s.skipBlanks();
      const after = s.peek();
      if (after === 44) {
        s.pos++;
        continue;
      }
      if (after === 125) {
        s.pos++;
        break;
      }
      return `unexpected end of label value ${JSON.stringify(s.token)}`;
    }
    if (metric === undefined || metric === '') return 'invalid metric name';
    s.skipBlanks();
    const valueText = s.readUntilBlank();
    const value = parseFloatValue(valueText);
    if (value === undefined) return `expected float as value, got ${JSON.stringify(valueText)}`;
    let timestampMs: number | undefined;
    if (s.pos < s.end) {
      s.skipBlanks();
      const tsText = s.readUntilBlank();
      timestampMs = parseIntTimestamp(tsText);
      if (timestampMs === undefined)
        return `expected integer as timestamp, got ${JSON.stringify(tsText)}`;
      if (s.pos < s.end)
        return `spurious string after timestamp: ${JSON.stringify(s.text.slice(s.pos, s.end))}`;
    }
    this.remember(metric, names, values);
    if (this.filter !== undefined && !this.filter.wantsName(metric)) return undefined;
    // A name maps to one family for good once seen, so the last line's answer holds for its name.
    const family =
      this.lastFamily !== undefined && metric === this.lastFamilyOf
        ? this.lastFamily
        : this.familyOf(metric);
    this.lastFamily = family;
    this.lastFamilyOf = metric;
    if (family.type === undefined) family.type = 'untyped';
    const labels: Record<string, string> = Object.create(null);
    for (let i = 0; i < names.length; i++) labels[names[i] as string] = values[i] as string;
    const problem = checkSpecialLabels(family, metric, labels, value);
    if (problem !== undefined) return problem;
    family.samples.push(
      timestampMs === undefined
        ? { name: metric, labels, value }
        : { name: metric, labels, value, timestampMs },
    );
    return undefined;
  }
}

/** `le` and `quantile` must be numbers; counts and bucket populations may not be negative. */
function checkSpecialLabels(
  family: OpenFamily,
  sampleName: string,
  labels: Record<string, string>,
  value: number,
): string | undefined {
  const { type, name } = family;
  const suffix = value < 0 ? sampleName.slice(name.length) : '';
  if (isHistogram(type)) {
    const le = labels.le;
    if (le !== undefined && parseFloatValue(le) === undefined)
      return `expected float as value for 'le' label, got ${JSON.stringify(le)}`;
    if (suffix === '_count') return `negative count for histogram ${JSON.stringify(name)}`;
    if (suffix === '_bucket')
      return `negative bucket population for histogram ${JSON.stringify(name)}`;
  } else if (type === 'summary') {
    const q = labels.quantile;
    if (q !== undefined && parseFloatValue(q) === undefined)
      return `expected float as value for 'quantile' label, got ${JSON.stringify(q)}`;
    if (suffix === '_count') return `negative count for summary ${JSON.stringify(name)}`;
  }
  return undefined;
}

/** True when a value is written exactly as it reads (no quote, backslash or newline). */
function plain(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 || c === 92 || c === 10) return false;
  }
  return true;
}

/** `x` for `x_sum` and `x_count` (and `x_bucket` when `bucket`), else `undefined`. */
function baseOf(name: string, bucket: boolean): string | undefined {
  if (bucket) return name.length > 7 && name.endsWith('_bucket') ? name.slice(0, -7) : undefined;
  if (name.length > 6 && name.endsWith('_count')) return name.slice(0, -6);
  if (name.length > 4 && name.endsWith('_sum')) return name.slice(0, -4);
  return undefined;
}
