import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pack } from 'msgpackr';
import { contentTypeOf, type Encoding } from '../codec/index.ts';
import { CONFIG_DEFAULTS } from '../config/index.ts';
import { type Rejection, readEnvelope } from '../rules/index.ts';
import type { OpenedEnvelope } from '../trust/index.ts';

/** A rule set read from disk, as the bytes that would be published. */
export interface RuleFile {
  readonly bytes: Uint8Array;
  readonly encoding: Encoding;
  /** MQTT 5 content type matching `encoding`. */
  readonly contentType: string;
}

/** Thrown when a rule file cannot be read or its module does not export a rule set. */
export class RuleFileError extends Error {
  override readonly name = 'RuleFileError';
}

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);

/**
 * Reads a rule set authored as JSON (`.json`), MessagePack (`.msgpack`, `.mpk`) or code
 * (`.ts`, `.mts`, `.js`, `.mjs`: the module's default export, or a `ruleSet` export, is the
 * object or a function, possibly async, returning it). Code-authored sets are serialised as
 * JSON, or MessagePack when `encoding` says so. The content is not checked here.
 * @throws {RuleFileError} when the file is missing, unreadable, or exports nothing usable.
 */
export async function loadRuleFile(path: string, encoding?: Encoding): Promise<RuleFile> {
  const ext = extname(path).toLowerCase();
  if (MODULE_EXTENSIONS.has(ext))
    return serialise(await importRuleModule(path), encoding ?? 'json');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new RuleFileError(`cannot read rule file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const own: Encoding = ext === '.msgpack' || ext === '.mpk' ? 'msgpack' : 'json';
  if (encoding === undefined || encoding === own)
    return { bytes, encoding: own, contentType: contentTypeOf(own) };
  if (own === 'json') {
    try {
      return serialise(JSON.parse(new TextDecoder().decode(bytes)), encoding);
    } catch (error) {
      throw new RuleFileError(
        `cannot convert ${path} to ${encoding}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  throw new RuleFileError(`${path} is MessagePack; converting it to ${encoding} is not supported`);
}

async function importRuleModule(path: string): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RuleFileError(`cannot load rule module ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exported = mod.default ?? mod.ruleSet;
  if (exported === undefined)
    throw new RuleFileError(`rule module ${path} has neither a default nor a "ruleSet" export`);
  return typeof exported === 'function' ? await (exported as () => unknown)() : exported;
}

function serialise(value: unknown, encoding: Encoding): RuleFile {
  const bytes =
    encoding === 'json'
      ? new TextEncoder().encode(JSON.stringify(value))
      : new Uint8Array(pack(value));
  return { bytes, encoding, contentType: contentTypeOf(encoding) };
}

/** The caps a sidecar applies by default, used for files checked offline. */
export const RULE_FILE_LIMITS = {
  maxBytes: CONFIG_DEFAULTS.rules.max_message_bytes,
  maxDepth: CONFIG_DEFAULTS.rules.max_depth,
};

/**
 * The rule set a file holds: a signed file's (`rules sign`) inner set and its envelope, else the
 * file itself; a refusal when the envelope is broken.
 */
export function unwrapRuleFile(rules: RuleFile):
  | {
      readonly envelope: OpenedEnvelope | null;
      readonly inner: { readonly bytes: Uint8Array; readonly contentType: string };
    }
  | { readonly rejection: Rejection } {
  const envelope = readEnvelope(rules, RULE_FILE_LIMITS);
  if (envelope !== null && 'rejection' in envelope) return { rejection: envelope.rejection };
  return {
    envelope,
    inner: envelope
      ? { bytes: envelope.payload, contentType: contentTypeOf(envelope.encoding) }
      : rules,
  };
}
