/** Appends one segment to a JSON pointer, escaping `~` and `/` as RFC 6901 says. */
export function joinPointer(base: string, segment: string | number): string {
  return `${base}/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** The segments of an RFC 6901 JSON Pointer, or `null` when it is not one. */
export function pointerSegments(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~[^01]|~$/.test(raw)) return null;
    segments.push(raw.replaceAll('~1', '/').replaceAll('~0', '~'));
  }
  return segments;
}

/** Resolves an RFC 6901 pointer in a parsed document; `undefined` when it leads nowhere. */
export function resolvePointer(document: unknown, pointer: string): unknown {
  let at: unknown = document;
  for (const key of pointerSegments(pointer) ?? [undefined]) {
    if (key === undefined) return undefined;
    if (Array.isArray(at)) {
      if (!/^(0|[1-9]\d*)$/.test(key)) return undefined;
      at = at[Number(key)];
    } else if (typeof at === 'object' && at !== null && Object.hasOwn(at, key)) {
      at = (at as Record<string, unknown>)[key];
    } else return undefined;
  }
  return at;
}
