import type { ModelRule } from '../rules/index.ts';
import type { ServedModel } from './served-model.ts';
import type { Unservable } from './unservable.ts';

/** Served models by name (a name may be listed once per version, as Triton does). */
export type ServedIndex = ReadonlyMap<string, readonly ServedModel[]>;

/** Indexes a server's list by name. */
export function indexServed(models: readonly ServedModel[]): ServedIndex {
  const index = new Map<string, ServedModel[]>();
  for (const m of models) {
    const list = index.get(m.name);
    if (list) list.push(m);
    else index.set(m.name, [m]);
  }
  return index;
}

/** The name a rule-set model is listed under on the server. */
export function servedName(model: ModelRule): string {
  return model.served?.name ?? model.id;
}

/**
 * Whether a served entry is at `revision`: its revision equals it, or it is a whole segment of the
 * root the entry was loaded from (split at `/`, `@` and `:`), as in
 * `/models/llama/snapshots/5f0b02c7…` or `meta-llama/Llama-3.1-8B@5f0b02c7…`.
 */
export function atRevision(entry: ServedModel, revision: string): boolean {
  if (entry.revision === revision || entry.root === revision) return true;
  return entry.root?.split(/[/@:]/).includes(revision) === true;
}

/**
 * Judges a rule-set model against what the server lists: loaded under its served name, at its
 * revision when it names one, ready; an adapter must moreover be loaded on its base and from its
 * own source (vLLM serves whatever adapter is loaded under a name: another tenant's adapter of the
 * same name must not pass for this one). Returns `null` when it can serve.
 */
export function judgeServed(
  model: ModelRule,
  base: ModelRule | undefined,
  index: ServedIndex,
): Unservable | null {
  const adapterOf = model.served?.adapterOf;
  if (adapterOf === undefined || base === undefined) return judgeBase(model, index);
  const baseProblem = judgeBase(base, index);
  if (baseProblem) return baseProblem;
  const name = servedName(model);
  const entries = index.get(name);
  if (entries === undefined) {
    return {
      code: 'ADAPTER_NOT_LOADED',
      message: `adapter "${name}" (model "${model.id}") is not loaded on this host`,
    };
  }
  const baseName = servedName(base);
  const entry = entries.find((e) => e.parent === baseName);
  if (entry === undefined) {
    const other = entries[0]?.parent;
    return {
      code: 'ADAPTER_BASE_MISMATCH',
      message: `adapter "${name}" (model "${model.id}") is loaded on ${other === undefined ? 'no base model' : `base "${other}"`}, not on "${baseName}"`,
    };
  }
  const source = model.served?.source ?? '';
  if (entry.root === undefined || trimSlash(entry.root) !== trimSlash(source)) {
    return {
      code: 'ADAPTER_NOT_OURS',
      message:
        entry.root === undefined
          ? `adapter "${name}" (model "${model.id}"): the server does not say where it was loaded from, so it cannot be confirmed to be "${source}"`
          : `adapter "${name}" on this host was loaded from "${entry.root}", not from "${source}" (model "${model.id}"): it is another adapter of the same name`,
    };
  }
  return entry.state === 'ready' ? null : notReady(model, name, entry);
}

function judgeBase(model: ModelRule, index: ServedIndex): Unservable | null {
  const name = servedName(model);
  const entries = index.get(name)?.filter((e) => e.parent === undefined);
  if (entries === undefined || entries.length === 0) {
    return {
      code: 'MODEL_NOT_LOADED',
      message: `model "${model.id}"${name === model.id ? '' : ` (served as "${name}")`} is not loaded on this host`,
    };
  }
  const revision = model.served?.revision;
  const candidates =
    revision === undefined ? entries : entries.filter((e) => atRevision(e, revision));
  if (candidates.length === 0) {
    const found = entries.map((e) => e.revision ?? e.root ?? 'unknown').join('", "');
    return {
      code: 'MODEL_VERSION_MISMATCH',
      message: `model "${model.id}" is loaded at revision "${found}" on this host, not "${revision}"`,
    };
  }
  if (candidates.some((e) => e.state === 'ready')) return null;
  return notReady(model, name, candidates[0] as ServedModel);
}

function notReady(model: ModelRule, name: string, entry: ServedModel): Unservable {
  return {
    code: 'MODEL_NOT_READY',
    message: `model "${model.id}"${name === model.id ? '' : ` (served as "${name}")`} is ${entry.state} on this host${entry.reason ? `: ${entry.reason}` : ''}`,
  };
}

function trimSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
