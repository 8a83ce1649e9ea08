import { hash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { TouchedSections } from './rule-delta.ts';
import type { RuleSet } from './types.ts';

/** The sections of a rule set hashed element by element. */
const SECTIONS = ['schemas', 'models', 'objectives'] as const;

/** Elements per chunk: a section's digest lines are one hash per chunk of this many elements. */
export const DIGEST_CHUNK = 64;

/** A hex SHA-256 and its newline: every line of the texts hashed here. */
const LINE = 65;

// The one-shot `hash` costs a sixth of `createHash().update().digest()` on 12 KB under Bun.
const sha256 = (text: string) => hash('sha256', text, 'hex');

/**
 * What a section's digest lines are made of, kept per array: for each chunk, the lines of its
 * elements' hashes (the text its own hash is taken of), and the section's text, its chunks' hashes
 * one per line. A delta that changed one element replaces one line in each, by position.
 */
interface SectionText {
  readonly chunks: readonly string[];
  readonly text: string;
}

/**
 * The rule-set digest (docs/rule-deltas.md): `sha256:` and the hex SHA-256 of a text made of the
 * RFC 8785 canonical JSON of the set without its arrays, then, per section (schemas, models,
 * objectives), its name and count and one line per chunk of {@linkcode DIGEST_CHUNK} elements: the
 * SHA-256 of the chunk's element hashes (each the SHA-256 of the element's canonical JSON, one per
 * line). Independent of the encoding (JSON or MessagePack) and of key order.
 *
 * Everything is cached by object: after a delta applied with structural sharing, only the elements
 * it touched are hashed again, and only their chunks are hashed again — their texts made from the
 * base's by replacing the changed lines — so a one-objective change to 11,500 objectives hashes
 * one objective, one 4 KB chunk and the 12 KB of chunk lines, with a handful of steps in between.
 */
export class RuleSetDigester {
  private readonly elements = new WeakMap<object, string>();
  private readonly sections = new WeakMap<readonly object[], SectionText>();
  private readonly digests = new WeakMap<RuleSet, string>();

  /**
   * The digest of `ruleSet`. With `base` (a set it was made from by a delta), chunks whose elements
   * are all the very objects of the base's same chunk reuse its hash; with `touched` too (where
   * the delta wrote), only the chunks holding touched elements are looked at.
   */
  digest(ruleSet: RuleSet, base?: RuleSet, touched?: TouchedSections): string {
    const known = this.digests.get(ruleSet);
    if (known !== undefined) return known;
    const { schemas, models, objectives, ...header } = ruleSet;
    let text = `filament-rules-digest/1\n${canonical(header)}\n`;
    const sections = { schemas, models, objectives };
    for (const name of SECTIONS) {
      const list = sections[name] as readonly object[];
      const from = base?.[name] as readonly object[] | undefined;
      const indices = touched?.[name];
      const section =
        from !== undefined && indices instanceof Set
          ? this.touchedSection(list, from, indices)
          : this.wholeSection(list, from);
      text += `${name} ${list.length}\n${section.text}`;
    }
    const digest = `sha256:${sha256(text)}`;
    this.digests.set(ruleSet, digest);
    return digest;
  }

  /**
   * Hashes `ruleSet`'s elements ahead of need, `chunk` at a time with a turn of the event loop
   * between (so a 100 ms cold digest never holds up requests), then its digest: the first delta
   * after a full set then finds them cached.
   */
  async warm(ruleSet: RuleSet, chunk = 256): Promise<void> {
    if (this.digests.has(ruleSet)) return;
    let done = 0;
    for (const name of SECTIONS)
      for (const element of ruleSet[name] as readonly object[]) {
        this.element(element);
        if (++done % chunk === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
    this.digest(ruleSet);
  }

  /** The texts of `list`, which is `base` with the elements at `indices` changed. */
  private touchedSection(
    list: readonly object[],
    base: readonly object[],
    indices: ReadonlySet<number>,
  ): SectionText {
    const known = this.sections.get(list);
    if (known !== undefined) return known;
    const from = this.sections.get(base);
    if (from === undefined || base.length !== list.length) return this.wholeSection(list, base);
    const chunks = from.chunks.slice();
    const changed = new Set<number>();
    for (const i of indices) {
      const k = Math.floor(i / DIGEST_CHUNK);
      const line = (i - k * DIGEST_CHUNK) * LINE;
      chunks[k] = replaceLine(chunks[k] as string, line, this.element(list[i] as object));
      changed.add(k);
    }
    let text = from.text;
    for (const k of changed) text = replaceLine(text, k * LINE, sha256(chunks[k] as string));
    const section = { chunks, text };
    this.sections.set(list, section);
    return section;
  }

  /** The texts of `list`, reusing `base`'s chunks that hold the very same objects. */
  private wholeSection(list: readonly object[], base: readonly object[] | undefined): SectionText {
    const known = this.sections.get(list);
    if (known !== undefined) return known;
    const from = base === undefined ? undefined : this.sections.get(base);
    const chunks: string[] = [];
    let text = '';
    for (let start = 0, k = 0; start < list.length; start += DIGEST_CHUNK, k++) {
      const end = Math.min(start + DIGEST_CHUNK, list.length);
      if (from !== undefined && sameRun(list, base as readonly object[], start, end)) {
        chunks.push(from.chunks[k] as string);
        text += from.text.slice(k * LINE, (k + 1) * LINE);
        continue;
      }
      let chunk = '';
      for (let i = start; i < end; i++) chunk += `${this.element(list[i] as object)}\n`;
      chunks.push(chunk);
      text += `${sha256(chunk)}\n`;
    }
    const section = { chunks, text };
    this.sections.set(list, section);
    return section;
  }

  private element(element: object): string {
    // A patched document may hold anything until its shape is checked: hashed, not cached.
    if (typeof element !== 'object' || element === null) return sha256(canonical(element));
    let known = this.elements.get(element);
    if (known === undefined) {
      known = sha256(canonical(element));
      this.elements.set(element, known);
    }
    return known;
  }
}

/** `text` with the 64-character hash at `at` replaced by `hash`. */
function replaceLine(text: string, at: number, hash: string): string {
  return text.slice(0, at) + hash + text.slice(at + LINE - 1);
}

/** Whether `a` and `b` hold the very same objects from `start` to `end` (and `b` ends there too). */
function sameRun(a: readonly object[], b: readonly object[], start: number, end: number): boolean {
  if (b.length < end || (end < start + DIGEST_CHUNK && b.length !== end)) return false;
  for (let i = start; i < end; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The digest of `ruleSet`, without a cache. */
export function ruleSetDigest(ruleSet: RuleSet): string {
  return new RuleSetDigester().digest(ruleSet);
}

function canonical(value: unknown): string {
  return canonicalize(value) as string;
}
