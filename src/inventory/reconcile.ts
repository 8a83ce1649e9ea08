import type { CompiledRuleSet, ModelRule, ObjectiveRule } from '../rules/index.ts';
import type { ModelInventory } from './model-inventory.ts';
import type { UnservableCode } from './unservable.ts';

/** A routing key of this host's cluster that it cannot serve now, and why. */
export interface UnservableKey {
  readonly routingKey: string;
  readonly model: string;
  readonly code: UnservableCode;
  readonly reason: string;
}

/** What a tenant's rule version asks of this host, and what it can do of it now. */
export interface Servability {
  readonly tenant: string;
  readonly version: number;
  /** Objectives with at least one target routed to this host's cluster. */
  readonly objectives: number;
  /** Of those, the ones with a target here that cannot serve now. */
  readonly unservableObjectives: readonly string[];
  /** Routing keys of this cluster this host can serve now, sorted. */
  readonly servableKeys: readonly string[];
  /** Model ids of this cluster this host can serve now, sorted. */
  readonly servableModels: readonly string[];
  /** Routing keys of this cluster it cannot serve, each with why, sorted by key. */
  readonly unservableKeys: readonly UnservableKey[];
}

/**
 * Works out which of a tenant's objectives and routing keys this host can serve now, against what
 * is loaded, and for the others why not. Each model of the cluster is judged once; an objective
 * is unservable here when any of its targets routed here cannot serve (a resolver may pick any
 * of them). Pure; 10,000 objectives × 100 models take a few milliseconds.
 */
export function reconcile(
  tenant: string,
  rules: CompiledRuleSet,
  cluster: string,
  inventory: ModelInventory,
): Servability {
  const bad = new Map<string, UnservableKey>();
  const good = new Set<string>();
  for (const model of rules.models.values()) {
    if (model.cluster !== cluster) continue;
    const problem = inventory.check(model, baseOf(model, rules));
    if (problem === null) good.add(model.id);
    else
      bad.set(model.id, {
        routingKey: model.routingKey,
        model: model.id,
        code: problem.code,
        reason: problem.message,
      });
  }
  let objectives = 0;
  const unservableObjectives: string[] = [];
  for (const objective of rules.objectives.values()) {
    const here = standingHere(objective, good, bad);
    if (here === NOT_HERE) continue;
    objectives++;
    if (here === BROKEN) unservableObjectives.push(objective.id);
  }
  const servableKeys = [
    ...new Set([...good].map((id) => (rules.models.get(id) as ModelRule).routingKey)),
  ];
  return {
    tenant,
    version: rules.version,
    objectives,
    unservableObjectives,
    servableKeys: servableKeys.sort(),
    servableModels: [...good].sort(),
    unservableKeys: [...bad.values()].sort((a, b) => (a.routingKey < b.routingKey ? -1 : 1)),
  };
}

/**
 * One line for an ACK or a log: `all 40 objectives can be served here`, or `2 of 40 objectives
 * cannot be served here: model "x": …` (the first few reasons).
 */
export function describeServability(s: Servability, maxReasons = 3): string {
  if (s.unservableObjectives.length === 0)
    return s.objectives === 0
      ? 'no objective routes to this cluster'
      : `all ${s.objectives} objectives can be served here`;
  const reasons = s.unservableKeys.slice(0, maxReasons).map((k) => `${k.code}: ${k.reason}`);
  const more = s.unservableKeys.length - reasons.length;
  return `${s.unservableObjectives.length} of ${s.objectives} objectives cannot be served here: ${reasons.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

function baseOf(model: ModelRule, rules: CompiledRuleSet): ModelRule | undefined {
  const base = model.served?.adapterOf;
  return base === undefined ? undefined : rules.models.get(base);
}

const NOT_HERE = 0;
const SERVABLE = 1;
const BROKEN = 2;

/** Whether an objective has targets routed here, and whether any of them cannot serve. */
function standingHere(
  objective: ObjectiveRule,
  good: ReadonlySet<string>,
  bad: ReadonlyMap<string, unknown>,
): number {
  let s = step(NOT_HERE, objective.defaultModel, good, bad);
  if (objective.cells) for (const cell of objective.cells) s = step(s, cell.model, good, bad);
  if (objective.canary) for (const c of objective.canary) s = step(s, c.model, good, bad);
  if (objective.shadow) for (const id of objective.shadow) s = step(s, id, good, bad);
  if (objective.fallback) for (const id of objective.fallback) s = step(s, id, good, bad);
  return s;
}

function step(
  s: number,
  id: string,
  good: ReadonlySet<string>,
  bad: ReadonlyMap<string, unknown>,
): number {
  if (s === BROKEN || bad.has(id)) return BROKEN;
  return s === NOT_HERE && good.has(id) ? SERVABLE : s;
}
