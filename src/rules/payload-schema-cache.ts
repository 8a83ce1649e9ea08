import { createHash } from 'node:crypto';
import type { Ajv, ValidateFunction } from 'ajv';
import { inspectTree } from '../codec/index.ts';
import { payloadSchemaViolation } from '../json-schema/index.ts';
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
 */
export class PayloadSchemaCache {
  private readonly ajv: Ajv;
  private readonly byText = new Map<string, { hash: string; validate: ValidateFunction }>();

  /** @param maxDepth nesting cap for schema documents (they are free-form, so walked here). */
  constructor(private readonly maxDepth: number) {
    // Payload schemas are written by rule authors and may carry annotations Ajv does not know.
    // They are checked against the meta-schema by `payloadSchemaViolation` before compiling.
    this.ajv = createAjv({
      strict: false,
      allErrors: false,
      validateSchema: false,
      addUsedSchema: false,
    });
    addTensorKeyword(this.ajv);
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
        const validate = this.ajv.compile(schema as object);
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
