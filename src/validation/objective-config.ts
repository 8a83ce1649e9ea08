/**
 * What a resolver attaches to a request: which objective and model it chose, from which
 * rule-set version, with which payload schema and routingKey, and in which A/B cell.
 * Mirrors `filament.v1.ObjectiveConfig` in the proto.
 */
export interface ObjectiveConfig {
  readonly tenant: string;
  readonly objective: string;
  /** Model id, as in the rule set's `models[].id`. */
  readonly model: string;
  /** Model version, as in the rule set's `models[].version`. */
  readonly modelVersion: string;
  /** The rule-set version the resolver resolved this request from. */
  readonly ruleVersion: number;
  /** The payload schema id the resolver expects the model to accept. */
  readonly schemaId: string;
  readonly routingKey: string;
  /** The A/B cell id, when the objective has cells and the resolver placed the request in one. */
  readonly cell?: string;
}

/** The fields of {@linkcode ObjectiveConfig} that must be non-empty strings. */
export const REQUIRED_TEXT_FIELDS = [
  'tenant',
  'objective',
  'model',
  'modelVersion',
  'schemaId',
  'routingKey',
] as const;
