import { resolvePointer } from '../codec/index.ts';
import { readJsonBody, text, tooMany } from './read-body.ts';
import type { InventoryParse, ServedModel } from './served-model.ts';

/** Where, in a JSON answer of another server, the models are: JSON pointers (RFC 6901). */
export interface GenericShape {
  /** The list of models, from the document's root (`""` for a top-level list), e.g. `/models`. */
  readonly list: string;
  /** Each entry's name, from the entry, e.g. `/name`. */
  readonly name: string;
  /** Each entry's revision, from the entry (optional), e.g. `/digest`. */
  readonly revision?: string;
  /** Each entry's base model for an adapter (optional). */
  readonly parent?: string;
}

/** Any JSON answer, read with {@linkcode GenericShape}; every listed model counts as ready. */
export function parseGeneric(body: string, shape: GenericShape, what: string): InventoryParse {
  const read = readJsonBody(body, what);
  if (!read.ok) return read;
  const list = resolvePointer(read.value, shape.list);
  if (!Array.isArray(list))
    return { ok: false, error: `${what}: "${shape.list}" is not a list in the answer` };
  const many = tooMany(list.length, what);
  if (many) return many;
  const models: ServedModel[] = [];
  for (let i = 0; i < list.length; i++) {
    const name = text(resolvePointer(list[i], shape.name));
    if (name === undefined)
      return { ok: false, error: `${what}: entry ${i} has no name at "${shape.name}"` };
    const revision = shape.revision ? text(resolvePointer(list[i], shape.revision)) : undefined;
    const parent = shape.parent ? text(resolvePointer(list[i], shape.parent)) : undefined;
    models.push({
      name,
      state: 'ready',
      ...(revision !== undefined ? { revision } : {}),
      ...(parent !== undefined ? { parent } : {}),
    });
  }
  return { ok: true, models };
}
