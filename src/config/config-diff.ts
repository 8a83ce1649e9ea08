/**
 * The dotted paths (`broker.urls`, `saturation.thresholds.queue`) whose values differ between
 * two configs. Objects are walked key by key; arrays and scalars compare as whole values, so a
 * changed model list is reported once as `models`.
 */
export function configDifferences(before: object, after: object): string[] {
  const changed: string[] = [];
  walk(before, after, '', changed);
  return changed;
}

function walk(a: unknown, b: unknown, path: string, out: string[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort())
      walk(a[key], b[key], path === '' ? key : `${path}.${key}`, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
