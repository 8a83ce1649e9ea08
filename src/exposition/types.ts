/** The metric types the two formats know. Text 0.0.4 says `untyped`; OpenMetrics says `unknown`. */
export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'untyped'
  | 'unknown'
  | 'info'
  | 'stateset';

/** An OpenMetrics exemplar: a labelled example value attached to a counter or bucket sample. */
export interface Exemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

/**
 * One sample line as written: its own name (`x_bucket`, `x_sum`, `x_total`, …), every label
 * (`le` and `quantile` included) in a prototype-free object, the value and the timestamp if any.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
  readonly exemplar?: Exemplar;
}

/** A metric family: its name, type, HELP and UNIT, and every sample of every series, in order. */
export interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help?: string;
  readonly unit?: string;
  readonly samples: readonly Sample[];
}

/** Where and why a body was refused: the 1-based line and a sentence naming what was wrong. */
export interface ExpositionError {
  readonly line: number;
  readonly message: string;
}

/** What {@linkcode parseExposition} gives: the families by name, or the first problem found. */
export type ExpositionResult =
  | { readonly ok: true; readonly families: ReadonlyMap<string, Family> }
  | { readonly ok: false; readonly error: ExpositionError };

/** The two exposition formats read. */
export type ExpositionFormat = 'prometheus-text' | 'openmetrics';

/** Options of {@linkcode parseExposition}. */
export interface ExpositionOptions {
  /** `prometheus-text` (0.0.4, the default) or `openmetrics` (1.0). */
  readonly format?: ExpositionFormat;
  /**
   * Read only these families (by family name: `vllm:e2e_request_latency_seconds` brings its
   * `_sum`, `_count`, `_bucket` and the like); every other line is passed over with no more work
   * than finding its name and its end, and is not checked. Default: every family, fully checked.
   */
  readonly families?: Iterable<string>;
}
