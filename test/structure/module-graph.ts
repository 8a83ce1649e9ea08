import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** One import or re-export of a source file. */
export interface ImportEdge {
  /** The file that imports, relative to the repository root. */
  readonly from: string;
  /** What it names: a bare module (`node:fs`, `mqtt`) or a repository path (`src/rules/index.ts`). */
  readonly to: string;
  readonly bare: boolean;
  /** `import type` / `export type`: erased at run time, so it loads nothing. */
  readonly typeOnly: boolean;
  /** The statement as written (first line), for error messages. */
  readonly text: string;
}

/** Every `.ts` file under `dir`, relative to `root`, sorted. */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
        out.push(relative(root, path));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** Source text without comments (strings that contain `//`, like URLs, are kept). */
export function withoutComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((line) => line.replace(/(^|[^:'"`\\])\/\/.*$/, '$1'))
    .join('\n');
}

const STATIC =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[\w*{}\s,$]*?\s+from\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports and re-exports of one file (static and dynamic `import()`). */
export function importsOf(root: string, file: string): ImportEdge[] {
  const code = withoutComments(readFileSync(join(root, file), 'utf8'));
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean, text: string) => {
    const bare = !specifier.startsWith('.');
    const to = bare ? specifier : relative(root, resolve(root, dirname(file), specifier));
    edges.push({ from: file, to, bare, typeOnly, text: text.trim().split('\n')[0] ?? '' });
  };
  for (const m of code.matchAll(STATIC)) add(m[3] as string, m[2] !== undefined, m[0]);
  for (const m of code.matchAll(DYNAMIC)) add(m[1] as string, false, m[0]);
  return edges;
}

/** The folder under `src/` a path belongs to (`main.ts` for the entry point), or `null`. */
export function folderOf(path: string): string | null {
  const [top, folder] = path.split('/');
  return top === 'src' && folder !== undefined ? folder : null;
}

/**
 * Follows value imports (never `import type`) from `start` through the source tree and returns,
 * for every bare module reached, the chain of files that loads it.
 */
export function reachableModules(
  graph: ReadonlyMap<string, readonly ImportEdge[]>,
  start: readonly string[],
): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const seen = new Set<string>(start);
  const queue: Array<{ file: string; chain: string[] }> = start.map((file) => ({
    file,
    chain: [file],
  }));
  while (queue.length > 0) {
    const { file, chain } = queue.shift() as { file: string; chain: string[] };
    for (const edge of graph.get(file) ?? []) {
      if (edge.typeOnly) continue;
      if (edge.bare) {
        if (!reached.has(edge.to)) reached.set(edge.to, [...chain, edge.to]);
      } else if (!seen.has(edge.to) && graph.has(edge.to)) {
        seen.add(edge.to);
        queue.push({ file: edge.to, chain: [...chain, edge.to] });
      }
    }
  }
  return reached;
}

/** A cycle in `deps` (folder → folders it imports), as a list of folders, or `null`. */
export function findCycle(deps: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of deps.get(node) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of deps.keys()) {
    if (state.has(node)) continue;
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}
