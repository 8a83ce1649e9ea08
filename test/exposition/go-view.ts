import type { Family } from '../../src/exposition/index.ts';

/**
 * A family as prometheus/common's Go parser hands it over (`dto.MetricFamily`): summaries and
 * histograms folded into one metric per label set (without `quantile`/`le`), with count, sum and
 * quantiles or buckets; the last timestamp given wins. Used to compare our reading with the Go
 * parser's expected output in its own test table.
 */
export interface GoMetric {
  labels: Record<string, string>;
  value?: number;
  count?: number;
  sum?: number;
  quantiles?: Array<[number, number]>;
  buckets?: Array<[number, number]>;
  ts?: number;
}

/** What {@linkcode goView} returns for one family. */
export interface GoFamily {
  name: string;
  type: string;
  help?: string;
  metrics: GoMetric[];
}

/** Folds our families into the Go parser's shape (see {@linkcode GoMetric}). */
export function goView(families: ReadonlyMap<string, Family>): GoFamily[] {
  const out: GoFamily[] = [];
  for (const family of families.values()) {
    const folded =
      family.type === 'summary' || family.type === 'histogram' || family.type === 'gaugehistogram';
    const special = family.type === 'summary' ? 'quantile' : 'le';
    const metrics: GoMetric[] = [];
    const bySignature = new Map<string, GoMetric>();
    for (const s of family.samples) {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.labels)) if (!folded || k !== special) labels[k] = v;
      let m: GoMetric;
      if (folded) {
        const signature = JSON.stringify(Object.entries(labels).sort());
        const found = bySignature.get(signature);
        if (found === undefined) {
          m = { labels };
          bySignature.set(signature, m);
          metrics.push(m);
        } else m = found;
        if (s.name === `${family.name}_count`) m.count = s.value;
        else if (s.name === `${family.name}_sum`) m.sum = s.value;
        else if (family.type === 'summary' && s.labels.quantile !== undefined)
          m.quantiles = [...(m.quantiles ?? []), [Number(s.labels.quantile), s.value]];
        else if (
          family.type !== 'summary' &&
          s.name === `${family.name}_bucket` &&
          s.labels.le !== undefined
        )
          m.buckets = [...(m.buckets ?? []), [parseLe(s.labels.le), s.value]];
      } else {
        m = { labels, value: s.value };
        metrics.push(m);
      }
      if (s.timestampMs !== undefined) m.ts = s.timestampMs;
    }
    out.push({
      name: family.name,
      type: family.type,
      ...(family.help !== undefined ? { help: family.help } : {}),
      metrics,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function parseLe(text: string): number {
  return text === '+Inf' ? Number.POSITIVE_INFINITY : Number(text);
}
