import { Ajv, type Options } from 'ajv';
import addFormatsPlugin from 'ajv-formats';

// ajv-formats is CommonJS; depending on the loader its default export may be wrapped once more.
const addFormats = ((addFormatsPlugin as unknown as { default?: typeof addFormatsPlugin })
  .default ?? addFormatsPlugin) as typeof addFormatsPlugin;

/**
 * Options for compiling filament's own schemas (config, RuleSet, report): skips checking the
 * schema against the JSON Schema meta-schema on every start-up (≈ 15–30 ms each in the binary);
 * `test/json-schema/own-schemas.test.ts` checks them once instead.
 */
export const OWN_SCHEMA_OPTIONS: Options = Object.freeze({ validateSchema: false });

/**
 * Creates an Ajv instance with the standard string formats (date-time, uri, …) registered.
 * Our own contracts (config, RuleSet) are compiled in strict mode; pass `strict: false` for
 * schemas written by others (payload schemas), which may carry annotation keywords.
 */
export function createAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true, ...options });
  addFormats(ajv);
  return ajv;
}
