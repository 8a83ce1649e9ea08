import { LineScanner } from './line-scanner.ts';
import type { NameFilter } from './name-filter.ts';
import { parseFloatValue, parseSecondsTimestamp } from './numbers.ts';
import {
  checkHistogram,
  familyClash,
  type OpenMetricsFamily,
  sampleProblem,
} from './openmetrics-rules.ts';
import type { Exemplar, ExpositionResult, Family, MetricType, Sample } from './types.ts';

const OM_TYPES: ReadonlySet<string> = new Set([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
  'unknown',
]);

/** The sample names each type's family writes (OpenMetrics 1.0, "Metric types"). */
const TYPE_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  histogram: ['_count', '_sum', '_bucket', '_created'],
  gaugehistogram: ['_gcount', '_gsum', '_bucket'],
  info: ['_info'],
};

/** The suffixes a family of `type` owns (a bare name for gauges, state sets and unknown). */
export function suffixesOf(type: MetricType | undefined): readonly string[] {
  return TYPE_SUFFIXES[type ?? 'unknown'] ?? [''];
}

/**
 * Reads OpenMetrics 1.0 text as the OpenMetrics test suite and the reference parsers (Prometheus's
 * and prometheus_client's) judge it: `# EOF` last, no blank lines, single spaces, metadata before
 * a family's samples and families not interleaved, `_total`/`_created`/`_gsum`… names per type,
 * exemplars on counters and buckets only, and the histogram, summary, info and state-set rules.
 * Quoted UTF-8 names (`{"my.metric"}`) are read too.
 */
export function parseOpenMetrics(text: string, filter: NameFilter | undefined): ExpositionResult {
  const reader = new OpenMetricsReader(filter);
  const n = text.length;
  let start = 0;
  let line = 0;
  let problem: string | undefined;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = n;
    line++;
    problem = reader.line(text, start, end);
    if (problem !== undefined) return { ok: false, error: { line, message: problem } };
    start = end + 1;
  }
  problem = reader.finish();
  if (problem !== undefined) return { ok: false, error: { line, message: problem } };
  return { ok: true, families: reader.out };
}

class OpenMetricsReader {
  readonly out = new Map<string, Family>();
  private readonly s = new LineScanner();
  private readonly seenNames = new Set<string>();
  private current: OpenMetricsFamily | undefined;
  private eof = false;
  private readonly names: string[] = [];
  private readonly values: string[] = [];

  constructor(private readonly filter: NameFilter | undefined) {
    this.s.strictEscapes = false;
  }

  line(text: string, start: number, end: number): string | undefined {
    if (this.eof) return 'text after "# EOF"';
    if (start === end) return 'blank line (OpenMetrics allows none)';
    const s = this.s;
    s.line(text, start, end);
    if (text.charCodeAt(start) === 35) return this.metadata();
    if (this.filter !== undefined && text.charCodeAt(start) !== 123) {
      const to = s.plainNameEnd(true);
      if (to > start && !this.filter.wants(text, start, to)) return undefined;
    }
    return this.sample();
  }

  finish(): string | undefined {
    if (!this.eof) return 'no "# EOF" at the end (the body may be cut short)';
    return this.close();
  }

  private close(): string | undefined {
    const family = this.current;
    this.current = undefined;
    if (family === undefined) return undefined;
    const problem =
      familyClash(family, suffixesOf(family.type), this.seenNames) ?? checkHistogram(family);
    if (problem !== undefined) return problem;
    if (family.samples.length > 0) this.out.set(family.name, family as Family);
    return undefined;
  }

  private open(name: string, type: MetricType | undefined): string | undefined {
    const problem = this.close();
    if (problem !== undefined) return problem;
    this.current = {
      name,
      type,
      samples: [],
      groups: new Set(),
      allowed: type ? allowedNames(name, type) : [name],
    };
    return undefined;
  }

  private metadata(): string | undefined {
    const s = this.s;
    const { text, end } = s;
    if (end - s.pos === 5 && text.startsWith('# EOF', s.pos)) {
      this.eof = true;
      return undefined;
    }
    if (text.charCodeAt(s.pos + 1) !== 32)
      return 'a comment line must be "# HELP", "# TYPE", "# UNIT" or "# EOF"';
    s.pos += 2;
    const keyword = s.readUntilSpace();
    if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT')
      return `unknown metadata line "# ${keyword}" (HELP, TYPE, UNIT or EOF)`;
    if (s.peek() !== 32) return `"# ${keyword}" needs a metric name`;
    s.pos++;
    const bad = s.readName(true, 'metric name');
    if (bad !== undefined) return bad;
    const name = s.token;
    if (name === '') return `invalid metric name in "# ${keyword}"`;
    if (s.peek() !== 32)
      return `"# ${keyword} ${name}" needs a single space and then its text after the name`;
    s.pos++;
    if (this.filter !== undefined && !this.filter.wantsName(name)) return undefined;
    let family = this.current;
    if (family !== undefined && family.name === name) {
      if (family.samples.length > 0)
        return `metadata for ${JSON.stringify(name)} after its samples`;
    } else {
      const problem = this.open(name, undefined);
      if (problem !== undefined) return problem;
      family = this.current as OpenMetricsFamily;
    }
    const rest = text.slice(s.pos, end);
    if (keyword === 'HELP') {
      if (family.help !== undefined) return `second HELP for ${JSON.stringify(name)}`;
      s.readHelp();
      family.help = s.token;
    } else if (keyword === 'TYPE') {
      if (family.type !== undefined) return `second TYPE for ${JSON.stringify(name)}`;
      if (!OM_TYPES.has(rest)) return `unknown metric type ${JSON.stringify(rest)}`;
      family.type = rest as MetricType;
      family.allowed = allowedNames(name, family.type);
    } else {
      if (family.unit !== undefined) return `second UNIT for ${JSON.stringify(name)}`;
      family.unit = rest;
    }
    return undefined;
  }

  /** Reads `{…}` at `pos` into names/values; `metric` receives a quoted name found inside. */
  private labels(allowName: boolean): { problem?: string; metric?: string } {
    const s = this.s;
    const names = this.names;
    const values = this.values;
    names.length = 0;
    values.length = 0;
    s.pos++;
    if (s.peek() === 125) {
      s.pos++;
      return {};
    }
    let metric: string | undefined;
    for (;;) {
      const quoted = s.peek() === 34;
      const bad = s.readName(false, 'label name');
      if (bad !== undefined) return { problem: bad };
      const label = s.token;
      if (label === '') return { problem: 'invalid label name' };
      let c = s.peek();
      if (
        allowName &&
        quoted &&
        metric === undefined &&
        names.length === 0 &&
        (c === 44 || c === 125)
      ) {
        metric = label;
      } else {
        if (c !== 61) return { problem: `expected '=' after label name ${JSON.stringify(label)}` };
        s.pos++;
        if (s.peek() !== 34)
          return { problem: `label ${JSON.stringify(label)} needs a quoted value` };
        const badValue = s.readQuoted('label value');
        if (badValue !== undefined) return { problem: badValue };
        if (names.includes(label))
          return { problem: `duplicate label name ${JSON.stringify(label)}` };
        names.push(label);
        values.push(s.token);
        c = s.peek();
      }
      s.pos++;
      if (c === 125) return metric === undefined ? {} : { metric };
      if (c !== 44) return { problem: 'labels must be separated by a single comma' };
      if (s.peek() === 125) return { problem: 'a comma must be followed by another label' };
    }
  }

  private labelObject(): Record<string, string> {
    const labels: Record<string, string> = Object.create(null);
    for (let i = 0; i < this.names.length; i++)
      labels[this.names[i] as string] = this.values[i] as string;
    return labels;
  }

  private sample(): string | undefined {
    const s = this.s;
    let name: string | undefined;
    let labels: Record<string, string> = Object.create(null);
    if (s.peek() !== 123) {
      const bad = s.readName(true, 'metric name');
      if (bad !== undefined) return bad;
      name = s.token;
      if (name === '')
        return `invalid metric name at ${JSON.stringify(s.text.slice(s.pos, s.pos + 20))}`;
    }
    if (s.peek() === 123) {
      const read = this.labels(name === undefined);
      if (read.problem !== undefined) return read.problem;
      if (read.metric !== undefined) name = read.metric;
      labels = this.labelObject();
    }
    if (name === undefined) return 'invalid metric name';
    if (s.peek() !== 32) return `${JSON.stringify(name)} needs a single space and then its value`;
    s.pos++;
    const valueText = s.readUntilSpace();
    const value = parseFloatValue(valueText);
    if (value === undefined) return `expected a number as value, got ${JSON.stringify(valueText)}`;
    let timestampMs: number | undefined;
    let exemplar: Exemplar | undefined;
    if (s.peek() === 32) {
      s.pos++;
      if (s.peek() !== 35) {
        const tsText = s.readUntilSpace();
        timestampMs = parseSecondsTimestamp(tsText);
        if (timestampMs === undefined)
          return `expected a timestamp in seconds, got ${JSON.stringify(tsText)}`;
        if (s.peek() === 32) {
          s.pos++;
          if (s.peek() !== 35) return `unexpected text after the timestamp`;
        }
      }
      if (s.peek() === 35) {
        const read = this.exemplar();
        if (typeof read === 'string') return read;
        exemplar = read;
      }
    }
    if (s.pos < s.end)
      return `unexpected text after the value: ${JSON.stringify(s.text.slice(s.pos, s.end))}`;
    if (this.filter !== undefined && !this.filter.wantsName(name)) return undefined;
    let family = this.current;
    if (family === undefined || !family.allowed.includes(name)) {
      const problem = this.open(name, 'unknown');
      if (problem !== undefined) return problem;
      family = this.current as OpenMetricsFamily;
    }
    const sample: Sample = {
      name,
      labels,
      value,
      ...(timestampMs !== undefined ? { timestampMs } : {}),
      ...(exemplar !== undefined ? { exemplar } : {}),
    };
    const problem = sampleProblem(family, sample);
    if (problem !== undefined) return problem;
    family.samples.push(sample);
    return undefined;
  }

  /** ` # {labels} value [timestamp]` at `pos` (on the `#`). */
  private exemplar(): Exemplar | string {
    const s = this.s;
    s.pos++;
    if (s.peek() !== 32) return 'an exemplar starts with "# {"';
    s.pos++;
    if (s.peek() !== 123) return 'an exemplar starts with "# {"';
    const read = this.labels(false);
    if (read.problem !== undefined) return `exemplar: ${read.problem}`;
    const labels = this.labelObject();
    let length = 0;
    for (let i = 0; i < this.names.length; i++)
      length += codePoints(this.names[i] as string) + codePoints(this.values[i] as string);
    if (length > 128) return `exemplar labels are ${length} characters long (at most 128)`;
    if (s.peek() !== 32) return 'an exemplar needs a single space and then its value';
    s.pos++;
    const valueText = s.readUntilSpace();
    const value = parseFloatValue(valueText);
    if (value === undefined)
      return `expected a number as exemplar value, got ${JSON.stringify(valueText)}`;
    if (s.peek() !== 32) return { labels, value };
    s.pos++;
    const tsText = s.readUntilSpace();
    const timestampMs = parseSecondsTimestamp(tsText);
    if (timestampMs === undefined)
      return `expected an exemplar timestamp in seconds, got ${JSON.stringify(tsText)}`;
    return { labels, value, timestampMs };
  }
}

function allowedNames(name: string, type: MetricType): string[] {
  return suffixesOf(type).map((suffix) => name + suffix);
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}
