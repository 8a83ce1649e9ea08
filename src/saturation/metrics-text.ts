import { type ExpositionFormat, parseExposition } from '../exposition/index.ts';

/** One sample of a metric: its labels (`le` and `quantile` included) and value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Parsed exposition text: every series of every sample name, by the name written on the line
 * (`x`, `x_total`, `x_sum`, `x_count`, `x_bucket`), so several engines, ranks or models of one
 * family are all there.
 */
export type MetricSamples = ReadonlyMap<string, readonly Sample[]>;

/** Options of {@linkcode parseMetricsText}. */
export interface MetricsTextOptions {
  /** Read only these families (a preset's); the rest is passed over unread. Default: all. */
  readonly families?: Iterable<string>;
  /** The body's format, from its Content-Type. Default: Prometheus text 0.0.4. */
  readonly format?: ExpositionFormat;
}

/**
 * Reads a model server's `/metrics` body (src/exposition: as prometheus/common reads text 0.0.4,
 * or OpenMetrics 1.0). Returns `{ error }` naming the line and what was wrong with it (the whole
 * scrape is refused, as Prometheus refuses it) instead of throwing.
 */
export function parseMetricsText(
  body: string | Uint8Array,
  options: MetricsTextOptions = {},
): MetricSamples | { error: string } {
  const result = parseExposition(body, options);
  if (!result.ok) {
    const { line, message } = result.error;
    return { error: `invalid metrics text, line ${line}${quoteLine(body, line)}: ${message}` };
  }
  const out = new Map<string, Sample[]>();
  for (const family of result.families.values())
    for (const s of family.samples) {
      const list = out.get(s.name);
      if (list === undefined) out.set(s.name, [s]);
      else list.push(s);
    }
  return out;
}

/** ` ("…")`: the line as written, cut to 120 characters, so a log says what the server sent. */
function quoteLine(body: string | Uint8Array, line: number): string {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let start = 0;
  for (let n = 1; n < line && start !== -1; n++) {
    const next = text.indexOf('\n', start);
    start = next === -1 ? -1 : next + 1;
  }
  if (start === -1) return '';
  const end = text.indexOf('\n', start);
  const whole = text.slice(start, end === -1 ? text.length : end);
  return ` (${JSON.stringify(whole.length > 120 ? `${whole.slice(0, 120)}…` : whole)})`;
}
