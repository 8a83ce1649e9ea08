import { type Rejection, reject } from './rejection.ts';
import type { ObjectiveRule, RuleSet } from './types.ts';

const PERCENT_EPSILON = 1e-9;

/**
 * Checks what a JSON Schema cannot: unique ids, references between sections, A/B shares that
 * add up, one cluster per routingKey, and an expiry after the issue time. Assumes the document
 * already passed the RuleSet schema. Returns the first problem found, or `null`.
 */
export function checkRuleSet(rules: RuleSet): Rejection | null {
  const schemaIds = new Set<string>();
  for (let i = 0; i < rules.schemas.length; i++) {
    const id = (rules.schemas[i] as { id: string }).id;
    if (schemaIds.has(id)) return duplicate(`/schemas/${i}/id`, 'schema', id);
    schemaIds.add(id);
  }
  const modelIds = new Set<string>();
  const clusterOfKey = new Map<string, string>();
  for (let i = 0; i < rules.models.length; i++) {
    const model = rules.models[i] as RuleSet['models'][number];
    if (modelIds.has(model.id)) return duplicate(`/models/${i}/id`, 'model', model.id);
    modelIds.add(model.id);
    if (!schemaIds.has(model.schemaId)) {
      return reject(
        'DANGLING_REFERENCE',
        `/models/${i}/schemaId`,
        `schema "${model.schemaId}" is not defined in /schemas`,
      );
    }
    const cluster = clusterOfKey.get(model.routingKey);
    if (cluster !== undefined && cluster !== model.cluster) {
      return reject(
        'ROUTING_CONFLICT',
        `/models/${i}/routingKey`,
        `routingKey "${model.routingKey}" maps to cluster "${cluster}" in an earlier model and to "${model.cluster}" here`,
      );
    }
    clusterOfKey.set(model.routingKey, model.cluster);
  }
  const problem = checkAdapters(rules.models);
  if (problem) return problem;
  const objectiveIds = new Set<string>();
  for (let i = 0; i < rules.objectives.length; i++) {
    const objective = rules.objectives[i] as ObjectiveRule;
    if (objectiveIds.has(objective.id))
      return duplicate(`/objectives/${i}/id`, 'objective', objective.id);
    objectiveIds.add(objective.id);
    const problem = checkObjective(objective, `/objectives/${i}`, modelIds);
    if (problem) return problem;
  }
  return checkTimes(rules);
}

/** The expiry, if any, comes after the issue time. */
export function checkTimes(rules: Pick<RuleSet, 'issuedAt' | 'expiresAt'>): Rejection | null {
  if (rules.expiresAt !== undefined && Date.parse(rules.expiresAt) <= Date.parse(rules.issuedAt)) {
    return reject(
      'SCHEMA',
      '/expiresAt',
      `expiresAt ${rules.expiresAt} is not after issuedAt ${rules.issuedAt}`,
    );
  }
  return null;
}

/** An adapter's base must be another model of the set, and not an adapter itself. */
function checkAdapters(models: RuleSet['models']): Rejection | null {
  let byId: Map<string, RuleSet['models'][number]> | null = null;
  for (let i = 0; i < models.length; i++) {
    const base = (models[i] as RuleSet['models'][number]).served?.adapterOf;
    if (base === undefined) continue;
    byId ??= new Map(models.map((m) => [m.id, m]));
    const path = `/models/${i}/served/adapterOf`;
    const found = byId.get(base);
    if (found === undefined) return dangling(path, base);
    if (found === models[i])
      return reject('DANGLING_REFERENCE', path, `model "${base}" cannot be an adapter of itself`);
    if (found.served?.adapterOf !== undefined)
      return reject(
        'DANGLING_REFERENCE',
        path,
        `model "${base}" is itself an adapter (of "${found.served.adapterOf}"); an adapter's base must be a base model`,
      );
  }
  return null;
}

/**
 * One objective's own checks: its models exist (`modelIds`), cell ids are unique and cells add up
 * to 100, canaries to at most 100. Runs once per objective on every full set, so nothing here
 * allocates unless it fails.
 */
export function checkObjective(
  objective: ObjectiveRule,
  path: string,
  modelIds: { has(id: string): boolean },
): Rejection | null {
  if (!modelIds.has(objective.defaultModel))
    return dangling(`${path}/defaultModel`, objective.defaultModel);
  const cells = objective.cells;
  if (cells !== undefined && cells.length > 0) {
    let total = 0;
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c] as NonNullable<ObjectiveRule['cells']>[number];
      for (let d = 0; d < c; d++) {
        if ((cells[d] as typeof cell).id === cell.id)
          return duplicate(`${path}/cells/${c}/id`, 'cell', cell.id);
      }
      if (!modelIds.has(cell.model)) return dangling(`${path}/cells/${c}/model`, cell.model);
      total += cell.percent;
    }
    if (Math.abs(total - 100) > PERCENT_EPSILON) {
      return reject(
        'BAD_ALLOCATION',
        `${path}/cells`,
        `cell percentages add up to ${total}, not 100`,
      );
    }
  }
  const canary = objective.canary;
  if (canary !== undefined) {
    let total = 0;
    for (let c = 0; c < canary.length; c++) {
      const target = canary[c] as NonNullable<ObjectiveRule['canary']>[number];
      if (!modelIds.has(target.model)) return dangling(`${path}/canary/${c}/model`, target.model);
      total += target.percent;
    }
    if (total > 100 + PERCENT_EPSILON) {
      return reject(
        'BAD_ALLOCATION',
        `${path}/canary`,
        `canary percentages add up to ${total}, more than 100`,
      );
    }
  }
  for (const list of LISTS) {
    const ids = objective[list];
    if (ids === undefined) continue;
    for (let k = 0; k < ids.length; k++) {
      if (!modelIds.has(ids[k] as string))
        return dangling(`${path}/${list}/${k}`, ids[k] as string);
    }
  }
  return null;
}

const LISTS = ['shadow', 'fallback'] as const;

function dangling(path: string, id: string): Rejection {
  return reject('DANGLING_REFERENCE', path, `model "${id}" is not defined in /models`);
}

/** `DUPLICATE_ID` for the `what` id `id` at `path`. */
export function duplicate(path: string, what: string, id: string): Rejection {
  return reject('DUPLICATE_ID', path, `${what} id "${id}" is defined more than once`);
}
