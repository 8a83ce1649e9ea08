import { createHash } from 'node:crypto';
import type { Ajv, ValidateFunction } from 'ajv';
import { inspectTree } from '../codec/index.ts';
import { asDraft07, isMultipleOf, payloadSchemaViolation } from '../json-schema/index.ts';
import { addTensorKeyword, createAjv } from '../schema-compiler/index.ts';
import { type Checked, refused, reject } from './rejection.ts';

/** A compiled payload schema: its content hash and the Ajv validator. */
export interface CompiledPayloadSchema {
  readonly id: string;
  /** `sha256:` + hex digest of the schema's JSON text, for comparing schemas across versions. */
  readonly hash: string;
  readonly validate: ValidateFunction;
}

/**
 * Compiles payload JSON Schemas with Ajv, once per distinct schema text: a new rule-set version
 * that keeps its schemas reuses the validators of the old one, so applying it costs no Ajv
 * compilation. {@linkcode PayloadSchemaCache.retain} drops validators no kept version uses.
 *
 * Each schema is compiled by an Ajv instance of its own: it is a document of its own, so its
 * `$id`s resolve its own references (`"$ref": "#"`, `"$ref": "node"`) and never clash with, or
 * leak into, another schema's (another tenant's, say). Properties are looked up as the object's
 * own (`required: ["toString"]` is not met by `{}`), and `$ref` siblings are ignored as draft-07
 * says ({@linkcode asDraft07}).
 */
export class PayloadSchemaCache {
  private readonly byText = new Map<string, { hash: string; validate: ValidateFunction }>();

  /** @param maxDepth nesting cap for schema documents (they are free-form, so walked here). */
  constructor(private readonly maxDepth: number) {}

  /**
   * A fresh Ajv for one schema. Payload schemas are written by rule authors and may carry
   * annotations Ajv does not know (hence not strict); they are checked against the meta-schema
   * by `payloadSchemaViolation` before compiling (hence no `validateSchema`).
   */
  private static ajv(): Ajv {
    const ajv = createAjv({
      strict: false,
      allErrors: false,
      validateSchema: false,
      ownProperties: true,
    });
    // Ajv's own multipleOf divides exactly: 3.3 is then no multiple of 1.1 (see isMultipleOf).
    ajv.removeKeyword('multipleOf');
    ajv.addKeyword({
      keyword: 'multipleOf',
      type: 'number',
      schemaType: 'number',
      validate: isMultipleOf,
      errors: false,
    });
    addTensorKeyword(ajv);
    return ajv;
  }

  /** Compiles (or reuses) the schema found at JSON pointer `path`. */
  compile(id: string, schema: unknown, path: string): Checked<CompiledPayloadSchema> {
    const text = JSON.stringify(schema);
    let entry = this.byText.get(text);
    if (entry === undefined) {
      const problem = inspectTree(schema, this.maxDepth, path);
      if (problem && !problem.ok)
        return refused(reject(problem.error.kind, problem.error.path, problem.error.message));
      const malformed = payloadSchemaViolation(schema);
      if (malformed)
        return refused(
          reject(
            'INVALID_PAYLOAD_SCHEMA',
            `${path}${malformed.path}`,
            `payload schema "${id}" is not valid JSON Schema draft-07: ${malformed.message} [${malformed.rule}]`,
          ),
        );
      try {
        const validate = PayloadSchemaCache.ajv().compile(asDraft07(schema) as object);
        entry = { hash: `sha256:${createHash('sha256').update(text).digest('hex')}`, validate };
      } catch (error) {
        return refused(
          reject(
            'INVALID_PAYLOAD_SCHEMA',
            path,
            `payload schema "${id}" does not compile: ${(error as Error).message}`,
          ),
        );
      }
      this.byText.set(text, entry);
    }
    return { ok: true, value: { id, hash: entry.hash, validate: entry.validate } };
  }

  /** Forgets every compiled schema whose validator is not in `keep`. */
  retain(keep: Iterable<ValidateFunction>): void {
    const live = new Set(keep);
    for (const [text, entry] of this.byText)
      if (!live.has(entry.validate)) this.byText.delete(text);
  }

  /** How many distinct schemas are compiled and cached. */
  get size(): number {
    return this.byText.size;
  }
}
