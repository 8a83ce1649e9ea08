import { joinPointer } from '../json-schema/index.ts';
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
  const objectiveIds = new Set<string>();
  for (let i = 0; i < rules.objectives.length; i++) {
    const objective = rules.objectives[i] as ObjectiveRule;
    if (objectiveIds.has(objective.id))
      return duplicate(`/objectives/${i}/id`, 'objective', objective.id);
    objectiveIds.add(objective.id);
    const problem = checkObjective(objective, `/objectives/${i}`, modelIds);
    if (problem) return problem;
  }
  if (rules.expiresAt !== undefined && Date.parse(rules.expiresAt) <= Date.parse(rules.issuedAt)) {
    return reject(
      'SCHEMA',
      '/expiresAt',
      `expiresAt ${rules.expiresAt} is not after issuedAt ${rules.issuedAt}`,
    );
  }
  return null;
}

function checkObjective(
  objective: ObjectiveRule,
  path: string,
  modelIds: ReadonlySet<string>,
): Rejection | null {
  const missing = (at: string, id: string) =>
    modelIds.has(id)
      ? null
      : reject('DANGLING_REFERENCE', at, `model "${id}" is not defined in /models`);
  const problem = missing(`${path}/defaultModel`, objective.defaultModel);
  if (problem) return problem;
  if (objective.cells !== undefined && objective.cells.length > 0) {
    const cellIds = new Set<string>();
    let total = 0;
    for (let c = 0; c < objective.cells.length; c++) {
      const cell = objective.cells[c] as NonNullable<ObjectiveRule['cells']>[number];
      if (cellIds.has(cell.id)) return duplicate(`${path}/cells/${c}/id`, 'cell', cell.id);
      cellIds.add(cell.id);
      const bad = missing(`${path}/cells/${c}/model`, cell.model);
      if (bad) return bad;
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
  if (objective.canary !== undefined) {
    let total = 0;
    for (let c = 0; c < objective.canary.length; c++) {
      const canary = objective.canary[c] as NonNullable<ObjectiveRule['canary']>[number];
      const bad = missing(`${path}/canary/${c}/model`, canary.model);
      if (bad) return bad;
      total += canary.percent;
    }
    if (total > 100 + PERCENT_EPSILON) {
      return reject(
        'BAD_ALLOCATION',
        `${path}/canary`,
        `canary percentages add up to ${total}, more than 100`,
      );
    }
  }
  for (const list of ['shadow', 'fallback'] as const) {
    const ids = objective[list] ?? [];
    for (let k = 0; k < ids.length; k++) {
      const bad = missing(joinPointer(`${path}/${list}`, k), ids[k] as string);
      if (bad) return bad;
    }
  }
  return null;
}

function duplicate(path: string, what: string, id: string): Rejection {
  return reject('DUPLICATE_ID', path, `${what} id "${id}" is defined more than once`);
}
