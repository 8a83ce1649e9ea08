import type { ModelRule } from '../rules/index.ts';
import type { Unservable } from './unservable.ts';

/** A model version this host has, and whether it is ready (status output, reports). */
export interface LoadedModel {
  readonly id: string;
  readonly version: string;
  readonly ready: boolean;
}

/**
 * What this host can serve: the configured `[[models]]` list, or what the model server itself
 * says it has loaded. Asked on every request, so `check` must be cheap.
 */
export interface ModelInventory {
  /**
   * Why `model` cannot serve on this host now, or `null` when it can. `base` is the rule-set
   * model an adapter is of (`model.served.adapterOf`), when there is one.
   */
  check(model: ModelRule, base: ModelRule | undefined): Unservable | null;
  /** Every model known, for status output. */
  list(): readonly LoadedModel[];
  /** Changes so far: a judgement made at one generation holds until the next. */
  readonly generation: number;
}

/** A {@linkcode ModelInventory} from a fixed list (the `[[models]]` config section), replaceable as a whole. */
export class StaticModelInventory implements ModelInventory {
  private byId = new Map<string, Map<string, boolean>>();
  private models: readonly LoadedModel[] = [];
  private changes = 0;

  constructor(models: readonly LoadedModel[] = []) {
    this.replace(models);
  }

  /** Judged by the rule-set model's id and version against the list (`*`: any version). */
  check(model: ModelRule): Unservable | null {
    const versions = this.byId.get(model.id);
    const ready = versions?.get(model.version) ?? versions?.get('*');
    if (ready === true) return null;
    return ready === undefined
      ? {
          code: 'MODEL_NOT_LOADED',
          message: `model "${model.id}" version "${model.version}" is not loaded on this host`,
        }
      : {
          code: 'MODEL_NOT_READY',
          message: `model "${model.id}" version "${model.version}" is loaded but not ready`,
        };
  }

  list(): readonly LoadedModel[] {
    return this.models;
  }

  get generation(): number {
    return this.changes;
  }

  /** Replaces the whole list at once (a config reload). */
  replace(models: readonly LoadedModel[]): void {
    const byId = new Map<string, Map<string, boolean>>();
    for (const m of models) {
      let versions = byId.get(m.id);
      if (!versions) {
        versions = new Map();
        byId.set(m.id, versions);
      }
      versions.set(m.version, m.ready);
    }
    this.byId = byId;
    this.models = Object.freeze([...models]);
    this.changes++;
  }
}
