import type { DecodeLimits } from '../codec/index.ts';
import type { ModelInventory } from '../inventory/index.ts';
import type { ObjectiveRule, PayloadValidationRule, RuleStore } from '../rules/index.ts';
import { type ObjectiveConfig, REQUIRED_TEXT_FIELDS } from './objective-config.ts';
import { checkPayload, type Payload, PayloadSampler } from './payload.ts';
import { targetRole } from './target-role.ts';
import {
  type Accepted,
  type PayloadOutcome,
  type Refused,
  refuse,
  type Verdict,
} from './verdict.ts';

/** Options for {@linkcode RequestValidator}. */
export interface RequestValidatorOptions {
  readonly store: RuleStore;
  readonly models: ModelInventory;
  /** The cluster this host serves; a routingKey mapped elsewhere is refused. */
  readonly cluster: string;
  /** Caps for decoding payload bytes. */
  readonly payloadLimits: DecodeLimits;
  /** Payload checking when neither the objective nor the model says. Default `off`. */
  readonly defaultPayloadValidation?: PayloadValidationRule;
}

/**
 * Judges a request's ObjectiveConfig (and optionally its payload) against the rules this host
 * has applied and the models it has loaded. Pure and synchronous: no I/O, no allocation on the
 * accepted metadata-only path beyond the verdict. The rule version the resolver used is looked
 * up among the kept versions, so a resolver one version ahead or behind is judged fairly.
 */
export class RequestValidator {
  private readonly sampler = new PayloadSampler();

  constructor(private readonly options: RequestValidatorOptions) {}

  /** Validates one request. Never throws for bad input; a malformed config is `INVALID_ARGUMENT`. */
  validate(config: ObjectiveConfig, payload?: Payload): Verdict {
    const bad = checkArguments(config);
    if (bad) return bad;
    const tenant = this.options.store.get(config.tenant);
    if (tenant === undefined) {
      return refuse(
        'UNKNOWN_TENANT',
        `this host has no rules for tenant "${config.tenant}"`,
        'tenant',
      );
    }
    const history = tenant.history;
    let rules = history[0];
    if (rules === undefined || rules.version !== config.ruleVersion) {
      rules = history.find((r) => r.version === config.ruleVersion);
      if (rules === undefined)
        return versionRefusal(
          config.ruleVersion,
          history.map((r) => r.version),
        );
    }
    const objective = rules.objectives.get(config.objective);
    if (objective === undefined) {
      return refuse(
        'UNKNOWN_OBJECTIVE',
        `objective "${config.objective}" is not in rule version ${rules.version}`,
        'objective',
      );
    }
    const model = rules.models.get(config.model);
    if (model === undefined) {
      return refuse(
        'UNKNOWN_MODEL',
        `model "${config.model}" is not in rule version ${rules.version}`,
        'model',
      );
    }
    let role = targetRole(objective, model.id);
    if (role === null) {
      return refuse(
        'NOT_A_TARGET',
        `model "${model.id}" is not a target of objective "${objective.id}" in rule version ${rules.version}`,
        'model',
      );
    }
    if (config.cell !== undefined && config.cell !== '') {
      const cellProblem = checkCell(objective, config.cell, model.id);
      if (cellProblem) return cellProblem;
      // The resolver placed the request in this A/B cell: that is the role it plays here.
      role = 'cell';
    }
    if (config.modelVersion !== model.version) {
      return refuse(
        'MODEL_VERSION_MISMATCH',
        `model "${model.id}" is version "${model.version}" in rule version ${rules.version}, not "${config.modelVersion}"`,
        'modelVersion',
      );
    }
    if (config.routingKey !== model.routingKey) {
      return refuse(
        'ROUTING_KEY_MISMATCH',
        `model "${model.id}" is routed by "${model.routingKey}", not "${config.routingKey}"`,
        'routingKey',
      );
    }
    if (model.cluster !== this.options.cluster) {
      return refuse(
        'ROUTING_KEY_NOT_SERVED',
        `routingKey "${config.routingKey}" maps to cluster "${model.cluster}"; this host serves "${this.options.cluster}"`,
        'routingKey',
      );
    }
    if (config.schemaId !== model.schemaId) {
      return refuse(
        'SCHEMA_MISMATCH',
        `model "${model.id}" accepts payload schema "${model.schemaId}", not "${config.schemaId}"`,
        'schemaId',
      );
    }
    const adapterOf = model.served?.adapterOf;
    const unservable = this.options.models.check(
      model,
      adapterOf === undefined ? undefined : rules.models.get(adapterOf),
    );
    if (unservable !== null) {
      const field = unservable.code === 'MODEL_VERSION_MISMATCH' ? 'modelVersion' : 'model';
      return refuse(unservable.code, unservable.message, field);
    }
    let outcome: PayloadOutcome = 'none';
    if (payload !== undefined) {
      const rule =
        objective.payloadValidation ??
        model.payloadValidation ??
        this.options.defaultPayloadValidation ??
        'off';
      const owner = objective.payloadValidation !== undefined ? objective : model;
      if (!this.sampler.shouldCheck(rule, owner)) {
        outcome = rule === 'off' ? 'off' : 'sampled-out';
      } else {
        const schema = rules.payloadSchemas.get(model.schemaId);
        const problem = schema ? checkPayload(payload, schema, this.options.payloadLimits) : null;
        if (problem) return problem;
        outcome = 'checked';
      }
    }
    const accepted: Accepted = { ok: true, ruleVersion: rules.version, role, payload: outcome };
    return accepted;
  }
}

function checkArguments(config: ObjectiveConfig): Refused | null {
  if (config === null || typeof config !== 'object')
    return refuse('INVALID_ARGUMENT', 'an ObjectiveConfig object is required');
  for (const field of REQUIRED_TEXT_FIELDS) {
    const value = config[field];
    if (typeof value !== 'string' || value === '')
      return refuse('INVALID_ARGUMENT', `${field} is required`, field);
  }
  if (!Number.isSafeInteger(config.ruleVersion) || config.ruleVersion < 1) {
    return refuse(
      'INVALID_ARGUMENT',
      `ruleVersion must be a positive integer (got ${String(config.ruleVersion)})`,
      'ruleVersion',
    );
  }
  if (config.cell !== undefined && typeof config.cell !== 'string')
    return refuse('INVALID_ARGUMENT', 'cell must be a string', 'cell');
  return null;
}

function versionRefusal(claimed: number, kept: readonly number[]): Refused {
  const newest = kept[0] ?? 0;
  const oldest = kept[kept.length - 1] ?? 0;
  const list = kept.join(', ');
  if (claimed > newest) {
    return refuse(
      'HOST_BEHIND',
      `rule version ${claimed} is newer than this host's newest applied version ${newest}: the host is behind`,
      'ruleVersion',
    );
  }
  if (claimed < oldest) {
    return refuse(
      'RULE_VERSION_TOO_OLD',
      `rule version ${claimed} is older than the oldest version this host keeps (${list})`,
      'ruleVersion',
    );
  }
  return refuse(
    'RULE_VERSION_UNKNOWN',
    `rule version ${claimed} was never applied on this host (kept: ${list})`,
    'ruleVersion',
  );
}

function checkCell(objective: ObjectiveRule, cellId: string, modelId: string): Refused | null {
  const cell = objective.cells?.find((c) => c.id === cellId);
  if (cell === undefined)
    return refuse('UNKNOWN_CELL', `objective "${objective.id}" has no cell "${cellId}"`, 'cell');
  if (cell.model !== modelId) {
    return refuse(
      'UNKNOWN_CELL',
      `cell "${cellId}" of objective "${objective.id}" sends traffic to "${cell.model}", not "${modelId}"`,
      'cell',
    );
  }
  return null;
}
