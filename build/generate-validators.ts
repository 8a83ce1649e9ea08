/**
 * Compiles filament's own JSON Schemas (config, RuleSet, saturation report) into standalone
 * validator modules with Ajv's `standaloneCode`, so start-up pays no Ajv compilation: in the
 * binary, compiling these three schemas took ≈ 60–90 ms of the exec → SERVING time.
 *
 *   bun build/generate-validators.ts           write the generated modules
 *   bun build/generate-validators.ts --check   exit 1 if any is out of date
 *
 * Ajv's ESM output still loads its run-time helpers with `require(…)`, which Deno does not
 * provide in ES modules; each such call becomes a namespace import of the same CommonJS module,
 * with the `.js` extension spelled out so every resolver finds it. What a namespace import of
 * CommonJS holds differs: Node and Deno put `module.exports` under `default`; Bun follows
 * `__esModule` and spreads the exports. `commonJsExports` takes `module.exports` from either.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { createAjv, OWN_SCHEMA_OPTIONS } from '../src/schema-compiler/index.ts';

const root = new URL('..', import.meta.url).pathname;

/** One schema and the module its validator is generated into (paths from the repository root). */
interface ValidatorSpec {
  readonly schema: string;
  readonly module: string;
  readonly options: Options;
  /** A part of the schema to compile instead of the whole (a validator for one piece). */
  readonly derive?: (schema: JsonObject) => JsonObject;
}

type JsonObject = Record<string, unknown>;

const RULE_SET_ARRAYS: ReadonlySet<string> = new Set(['schemas', 'models', 'objectives']);

/** Every generated validator. `allErrors` where a person reads the whole list of problems. */
export const VALIDATORS: readonly ValidatorSpec[] = [
  {
    schema: 'src/config/config.schema.json',
    module: 'src/config/config.validator.generated.ts',
    options: { allErrors: true },
  },
  {
    schema: 'src/rules/rule-set.schema.json',
    module: 'src/rules/rule-set.validator.generated.ts',
    options: { allErrors: false },
  },
  {
    // One objective alone, for a delta that changed objectives: checked without a whole set.
    schema: 'src/rules/rule-set.schema.json',
    module: 'src/rules/objective.validator.generated.ts',
    options: { allErrors: false },
    derive: (schema) => ({
      $schema: schema.$schema,
      $id: 'https://filament.dev/schemas/rule-set.v1.objective.json',
      definitions: schema.definitions,
      ...((schema.properties as JsonObject).objectives as { items: JsonObject }).items,
    }),
  },
  {
    // A set's outline, for a delta's result: its top-level fields, and its arrays' type and
    // length without their elements (which the delta path checks where they changed).
    schema: 'src/rules/rule-set.schema.json',
    module: 'src/rules/rule-set-outline.validator.generated.ts',
    options: { allErrors: false },
    derive: (schema) => ({
      ...schema,
      $id: 'https://filament.dev/schemas/rule-set.v1.outline.json',
      properties: Object.fromEntries(
        Object.entries(schema.properties as JsonObject).map(([field, part]) => {
          if (!RULE_SET_ARRAYS.has(field)) return [field, part];
          const { items: _elements, ...outline } = part as JsonObject;
          return [field, outline];
        }),
      ),
    }),
  },
  {
    schema: 'src/report/report.schema.json',
    module: 'src/report/report.validator.generated.ts',
    options: { allErrors: false },
  },
  {
    schema: 'src/report/servable-set.schema.json',
    module: 'src/report/servable-set.validator.generated.ts',
    options: { allErrors: false },
  },
  {
    // Payload schemas come from rule authors: checked against the draft-07 meta-schema (the
    // dialect filament compiles) before Ajv compiles them.
    schema: 'node_modules/ajv/dist/refs/json-schema-draft-07.json',
    module: 'src/json-schema/draft-07.validator.generated.ts',
    options: { allErrors: false, meta: false, strict: false },
  },
];

// The default export is the function, but the CommonJS wrapper may nest it once more.
const standaloneCode = ((standalone as unknown as { default?: typeof standalone }).default ??
  standalone) as typeof standalone;

/** The module text generated for one spec. */
export function generate(spec: ValidatorSpec): string {
  const ajv = createAjv({
    ...OWN_SCHEMA_OPTIONS,
    ...spec.options,
    code: { source: true, esm: true, lines: true },
  });
  const whole = JSON.parse(readFileSync(join(root, spec.schema), 'utf8'));
  const schema = spec.derive === undefined ? whole : spec.derive(whole);
  const code = standaloneCode(ajv, ajv.compile(schema)).replace(/^"use strict";/, '');
  const imports = new Map<string, string>();
  const body = code.replace(/require\("([^"]+)"\)/g, (_, specifier: string) => {
    let local = imports.get(specifier);
    if (local === undefined) {
      local = `dependency${imports.size}`;
      imports.set(specifier, local);
    }
    return local;
  });
  return [
    `// Generated by build/generate-validators.ts from ${spec.derive === undefined ? '' : 'part of '}${spec.schema} with Ajv's standaloneCode.`,
    '// Do not edit: change the schema and run `bun build/generate-validators.ts`.',
    '// @ts-nocheck',
    ...[...imports].map(
      ([specifier, local]) => `import * as ${local}Module from '${specifier}.js';`,
    ),
    'const commonJsExports = (namespace) => namespace.default?.__esModule ? namespace.default : namespace;',
    ...[...imports.values()].map((local) => `const ${local} = commonJsExports(${local}Module);`),
    body.trim(),
    '',
  ].join('\n');
}

if (import.meta.main) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const spec of VALIDATORS) {
    const target = join(root, spec.module);
    const text = generate(spec);
    if (!check) {
      writeFileSync(target, text);
      console.log(`wrote ${spec.module}`);
      continue;
    }
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`${spec.module} is out of date: run bun build/generate-validators.ts`);
      stale++;
    }
  }
  if (check && stale === 0) console.log('generated validators are up to date');
  process.exitCode = stale > 0 ? 1 : 0;
}
