import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AJV_COMPILER, IO_MODULES, LAYOUT, NO_AJV_COMPILER, PURE } from './layout.ts';
import {
  findCycle,
  folderOf,
  type ImportEdge,
  importsOf,
  reachableModules,
  sourceFiles,
  withoutComments,
} from './module-graph.ts';

const ROOT = join(import.meta.dir, '..', '..');
const FILES = sourceFiles(ROOT, 'src');
const GRAPH = new Map(FILES.map((file) => [file, importsOf(ROOT, file)]));
const EDGES = [...GRAPH.values()].flat();

const describeEdge = (e: ImportEdge) => `${e.from}: ${e.text}`;
const nodeName = (module: string) => module.replace(/^node:/, '');

describe('the structure of src/', () => {
  test('every folder is in the layout, with its job (test/structure/layout.ts)', () => {
    const folders = readdirSync(join(ROOT, 'src'));
    expect(folders.filter((f) => LAYOUT[f] === undefined)).toEqual([]);
    expect(Object.keys(LAYOUT).filter((f) => !folders.includes(f))).toEqual([]);
  });

  test('each folder imports only the folders the layout allows', () => {
    const offending = EDGES.filter((e) => {
      const from = folderOf(e.from);
      const to = folderOf(e.to);
      if (e.bare || from === null || to === null || from === to) return false;
      return !LAYOUT[from]?.mayImport.includes(to);
    }).map((e) => `${describeEdge(e)}  (${folderOf(e.from)} may not import ${folderOf(e.to)})`);
    expect(offending).toEqual([]);
  });

  test('another folder is reached only through its index.ts', () => {
    const offending = EDGES.filter((e) => {
      const from = folderOf(e.from);
      const to = folderOf(e.to);
      return !e.bare && to !== null && from !== to && e.to !== `src/${to}/index.ts`;
    }).map(describeEdge);
    expect(offending).toEqual([]);
  });

  test('no cycles between folders', () => {
    const deps = new Map<string, Set<string>>();
    for (const e of EDGES) {
      const from = folderOf(e.from);
      const to = folderOf(e.to);
      if (e.bare || from === null || to === null || from === to) continue;
      deps.set(from, (deps.get(from) ?? new Set()).add(to));
    }
    expect(findCycle(deps)).toBeNull();
  });

  for (const folder of PURE) {
    test(`${folder} is pure: it loads no I/O module, directly or through what it imports`, () => {
      const start = FILES.filter((f) => folderOf(f) === folder);
      const reached = reachableModules(GRAPH, start);
      const forbidden: readonly string[] = [
        ...IO_MODULES,
        ...((NO_AJV_COMPILER as readonly string[]).includes(folder) ? AJV_COMPILER : []),
      ];
      const offending = [...reached]
        .filter(([module]) => forbidden.includes(nodeName(module)))
        .map(([, chain]) => chain.join(' → '));
      expect(offending).toEqual([]);
    });
  }

  test('only src/runtime touches Bun.*, Deno.* or bun: modules', () => {
    const offending: string[] = [];
    for (const file of FILES) {
      if (folderOf(file) === 'runtime') continue;
      const code = withoutComments(readFileSync(join(ROOT, file), 'utf8'));
      code.split('\n').forEach((line, i) => {
        if (/\b(Bun|Deno)\.\w/.test(line) || /from\s+['"]bun(:[\w-]+)?['"]/.test(line))
          offending.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offending).toEqual([]);
  });

  test('the rules never import the API, directly or through what they import', () => {
    const reached = new Set<string>();
    const queue = FILES.filter((f) => folderOf(f) === 'rules');
    for (const file of queue)
      for (const e of GRAPH.get(file) ?? [])
        if (!e.bare && !reached.has(e.to)) {
          reached.add(e.to);
          queue.push(e.to);
        }
    expect([...reached].filter((f) => folderOf(f) === 'api')).toEqual([]);
  });

  test('docs/code-layout.md names every folder', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'code-layout.md'), 'utf8');
    expect(Object.keys(LAYOUT).filter((f) => !doc.includes(`\`src/${f}`))).toEqual([]);
  });
});

describe('the structure checks themselves', () => {
  test('see a forbidden import, and name the file and the statement', () => {
    const fake = new Map(GRAPH);
    const file = 'src/validation/request-validator.ts';
    const edge: ImportEdge = {
      from: file,
      to: 'node:fs',
      bare: true,
      typeOnly: false,
      text: "import { readFileSync } from 'node:fs';",
    };
    fake.set(file, [...(GRAPH.get(file) ?? []), edge]);
    const chain = reachableModules(fake, [file]).get('node:fs');
    expect(chain).toEqual([file, 'node:fs']);
  });

  test('follow imports through other folders, and ignore type-only ones', () => {
    const graph = new Map<string, ImportEdge[]>([
      ['src/a/index.ts', [edge('src/a/index.ts', 'src/b/index.ts', false)]],
      [
        'src/b/index.ts',
        [
          edge('src/b/index.ts', 'child_process', true),
          edge('src/b/index.ts', 'src/c/index.ts', false, true),
        ],
      ],
      ['src/c/index.ts', [edge('src/c/index.ts', 'node:net', true)]],
    ]);
    const reached = reachableModules(graph, ['src/a/index.ts']);
    expect(reached.get('child_process')).toEqual([
      'src/a/index.ts',
      'src/b/index.ts',
      'child_process',
    ]);
    expect(reached.has('node:net')).toBe(false);
  });

  test('find a cycle between folders', () => {
    const deps = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(findCycle(deps)).toEqual(['a', 'b', 'c', 'a']);
  });

  test('parse the import forms the tree uses', () => {
    expect(existsSync(join(ROOT, 'src/sidecar/sidecar.ts'))).toBe(true);
    const edges = importsOf(ROOT, 'src/sidecar/sidecar.ts');
    expect(edges.some((e) => e.to === 'src/api/index.ts' && !e.typeOnly)).toBe(true);
    expect(edges.some((e) => e.to === 'src/config/index.ts' && e.typeOnly)).toBe(true);
    const cli = importsOf(ROOT, 'src/cli/index.ts');
    expect(cli.some((e) => e.to === 'src/cli/run-command.ts')).toBe(true);
  });
});

function edge(from: string, to: string, bare: boolean, typeOnly = false): ImportEdge {
  return { from, to, bare, typeOnly, text: `import '${to}'` };
}
