/** A payload JSON Schema that models refer to by id. */
export interface PayloadSchemaRule {
  readonly id: string;
  readonly schema: Record<string, unknown> | boolean;
}

/** Whether request payloads are checked: never, always, or every Nth request. */
export type PayloadValidationRule = 'off' | 'always' | { readonly sampleOneIn: number };

/** A model as the rule set describes it: identity, routing, and the payload schema it accepts. */
export interface ModelRule {
  readonly id: string;
  readonly version: string;
  readonly routingKey: string;
  readonly cluster: string;
  readonly schemaId: string;
  readonly payloadValidation?: PayloadValidationRule;
  /** How the model appears on the model server (see {@linkcode ServedIdentity}). */
  readonly served?: ServedIdentity;
}

/**
 * How a rule-set model appears on the model server when filament discovers what is loaded:
 * the name it is listed under (default: the model's id), the revision that makes it this version,
 * and, for a LoRA adapter, its base model (another model of the set) and where its weights come from.
 */
export interface ServedIdentity {
  readonly name?: string;
  readonly revision?: string;
  readonly adapterOf?: string;
  readonly source?: string;
}

/** One A/B cell of an objective. */
export interface CellRule {
  readonly id: string;
  readonly model: string;
  readonly percent: number;
}

/** One canary target of an objective. */
export interface CanaryRule {
  readonly model: string;
  readonly percent: number;
}

/** An objective: the models a resolver may choose for it and how. */
export interface ObjectiveRule {
  readonly id: string;
  readonly defaultModel: string;
  readonly cells?: readonly CellRule[];
  readonly canary?: readonly CanaryRule[];
  readonly shadow?: readonly string[];
  readonly fallback?: readonly string[];
  /** Overrides the default model's setting for requests under this objective. */
  readonly payloadValidation?: PayloadValidationRule;
}

/** One tenant's whole rule set, as published on `{prefix}/rules/{tenant}` (see `rule-set.schema.json`). */
export interface RuleSet {
  readonly tenant: string;
  readonly version: number;
  readonly issuedAt: string;
  readonly expiresAt?: string;
  readonly description?: string;
  readonly schemas: readonly PayloadSchemaRule[];
  readonly models: readonly ModelRule[];
  readonly objectives: readonly ObjectiveRule[];
}

/** How a rule message's bytes are encoded. */
export type RuleEncoding = 'json' | 'msgpack';
