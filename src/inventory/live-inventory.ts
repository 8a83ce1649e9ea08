import type { ModelRule } from '../rules/index.ts';
import { indexServed, judgeServed, type ServedIndex } from './judge-served.ts';
import type { LoadedModel, ModelInventory } from './model-inventory.ts';
import type { ServedModel } from './served-model.ts';
import type { Unservable } from './unservable.ts';

/**
 * What the model server says it has loaded, as the validator reads it. Fed by whoever asks the
 * server (a poller, or the server itself through the push RPC): {@linkcode replace} with each
 * successful answer, {@linkcode unconfirm} once the last good answer is too old to trust. Until
 * the first answer, and while unconfirmed, every model is refused with `INVENTORY_UNCONFIRMED`:
 * a host never accepts a request for a model it cannot confirm. Judgements are cached per
 * rule-set model until the next change, so a request costs one map lookup.
 */
export class LiveInventory implements ModelInventory {
  private index: ServedIndex = new Map();
  private models: readonly ServedModel[] = [];
  private loaded: readonly LoadedModel[] = [];
  private unconfirmed: string | null;
  private cache = new WeakMap<ModelRule, Unservable | null>();
  private changes = 0;

  /** `source` names where the inventory comes from, for messages (`vllm http://…/v1/models`). */
  constructor(readonly source: string) {
    this.unconfirmed = `no answer from the model server's inventory (${source}) yet`;
  }

  check(model: ModelRule, base: ModelRule | undefined): Unservable | null {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached;
    const verdict: Unservable | null =
      this.unconfirmed !== null
        ? {
            code: 'INVENTORY_UNCONFIRMED',
            message: `cannot confirm that model "${model.id}" is loaded: ${this.unconfirmed}`,
          }
        : judgeServed(model, base, this.index);
    this.cache.set(model, verdict);
    return verdict;
  }

  list(): readonly LoadedModel[] {
    return this.loaded;
  }

  /** The models as the server listed them last. */
  served(): readonly ServedModel[] {
    return this.models;
  }

  /** Why the inventory cannot be trusted now, or `null`. */
  get unconfirmedReason(): string | null {
    return this.unconfirmed;
  }

  /** Changes so far (each {@linkcode replace} that changed something, each confirm/unconfirm). */
  get generation(): number {
    return this.changes;
  }

  /**
   * Takes a successful answer. Returns whether anything changed (the list, or being confirmed
   * again), so the caller can act on a change at once.
   */
  replace(models: readonly ServedModel[]): boolean {
    const same = this.unconfirmed === null && sameModels(this.models, models);
    this.unconfirmed = null;
    if (same) return false;
    this.models = Object.freeze([...models]);
    this.index = indexServed(models);
    this.loaded = Object.freeze(
      models.map((m) => ({
        id: m.parent === undefined ? m.name : `${m.parent}:${m.name}`,
        version: m.revision ?? m.root ?? '',
        ready: m.state === 'ready',
      })),
    );
    this.changed();
    return true;
  }

  /** Stops trusting the last answer (it is too old); `reason` ends up in every refusal. */
  unconfirm(reason: string): boolean {
    if (this.unconfirmed === reason) return false;
    this.unconfirmed = reason;
    this.changed();
    return true;
  }

  private changed(): void {
    this.cache = new WeakMap();
    this.changes++;
  }
}

function sameModels(a: readonly ServedModel[], b: readonly ServedModel[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ServedModel;
    const y = b[i] as ServedModel;
    if (
      x.name !== y.name ||
      x.revision !== y.revision ||
      x.root !== y.root ||
      x.parent !== y.parent ||
      x.state !== y.state ||
      x.reason !== y.reason
    )
      return false;
  }
  return true;
}
