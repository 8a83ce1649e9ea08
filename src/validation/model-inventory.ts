/** Whether a model version can serve on this host. */
export type ModelState = 'ready' | 'not-ready' | 'absent';

/** A model version this host has, and whether it is ready. */
export interface LoadedModel {
  readonly id: string;
  readonly version: string;
  readonly ready: boolean;
}

/**
 * Which models are loaded on this host. Read on every request, so lookups must be cheap.
 * Configured statically for now; readiness probes of the model server will feed it later.
 */
export interface ModelInventory {
  state(id: string, version: string): ModelState;
  /** Every model version known, for status output. */
  list(): readonly LoadedModel[];
}

/** A {@linkcode ModelInventory} from a fixed list (the `[[models]]` config section), replaceable as a whole. */
export class StaticModelInventory implements ModelInventory {
  private byId = new Map<string, Map<string, boolean>>();
  private models: readonly LoadedModel[] = [];

  constructor(models: readonly LoadedModel[] = []) {
    this.replace(models);
  }

  state(id: string, version: string): ModelState {
    const ready = this.byId.get(id)?.get(version);
    return ready === undefined ? 'absent' : ready ? 'ready' : 'not-ready';
  }

  list(): readonly LoadedModel[] {
    return this.models;
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
  }
}
