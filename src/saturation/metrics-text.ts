import parsePrometheusTextFormat from 'parse-prometheus-text-format';

/** One sample of a counter, gauge or untyped metric. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const HISTOGRAM_OR_SUMMARY = /^# TYPE (\S+) (histogram|summary)\s*$/gm;

/** Parsed exposition text: samples by metric name; histograms and summaries as `{name}_sum`, `{name}_count` and `{name}_bucket`. */
export type MetricSamples = ReadonlyMap<string, readonly Sample[]>;

/**
 * Parses Prometheus text exposition (as a model server's `/metrics` returns it) with
 * parse-prometheus-text-format. Values such as `NaN`, `+Inf` and `1.5e+06` become numbers.
 * Returns `{ error }` naming the bad line instead of throwing.
 */
export function parseMetricsText(text: string): MetricSamples | { error: string } {
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    // parse-prometheus-text-format 1.1.1 drops the labels, _sum and _count of labelled histogram
    // series; declared untyped, each series is kept as a family of its own (x_sum, x_count, …).
    // It also drops a last line without a newline (real servers end so), hence the one added.
    const untyped = text.replace(HISTOGRAM_OR_SUMMARY, '# TYPE $1 untyped');
    families = parsePrometheusTextFormat(untyped.endsWith('\n') ? untyped : `${untyped}\n`);
  } catch (error) {
    return { error: `invalid metrics text: ${(error as Error).message}` };
  }
  const out = new Map<string, Sample[]>();
  for (const family of families) {
    const samples: Sample[] = [];
    for (const m of family.metrics) {
      if (m.value === undefined) continue;
      samples.push({ labels: m.labels ?? {}, value: toNumber(m.value) });
    }
    out.set(family.name, samples);
  }
  return out;
}

function toNumber(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}
