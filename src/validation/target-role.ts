import type { ObjectiveRule } from '../rules/index.ts';

/** How a model takes part in an objective. */
export type TargetRole = 'default' | 'cell' | 'canary' | 'shadow' | 'fallback';

/**
 * The role `modelId` plays in `objective`, or `null` when the objective never sends it traffic.
 * A linear scan: objectives name a handful of models, and a per-objective Set would cost more
 * to build on every rule message than this costs per request.
 */
export function targetRole(objective: ObjectiveRule, modelId: string): TargetRole | null {
  if (objective.defaultModel === modelId) return 'default';
  if (objective.cells?.some((c) => c.model === modelId)) return 'cell';
  if (objective.canary?.some((c) => c.model === modelId)) return 'canary';
  if (objective.shadow?.includes(modelId)) return 'shadow';
  if (objective.fallback?.includes(modelId)) return 'fallback';
  return null;
}
