import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { TouchedSections } from './rule-delta.ts';
import type { RuleSet } from './types.ts';

/** The sections of a rule set hashed element by element. */
const SECTIONS = ['schemas', 'models', 'objectives'] as const;

/** Elements per chunk: a section's digest lines are one hash per chunk of this many elements. */
export const DIGEST_CHUNK = 64;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The rule-set digest (docs/rule-deltas.md): `sha256:` and the hex SHA-256 of a text made of the
 * RFC 8785 canonical JSON of the set without its arrays, then, per section (schemas, models,
 * objectives), its name and count and one line per chunk of {@linkcode DIGEST_CHUNK} elements: the
 * SHA-256 of the chunk's element hashes (each the SHA-256 of the element's canonical JSON, one per
 * line). Independent of the encoding (JSON or MessagePack) and of key order.
 *
 * Everything is cached by object: after a delta applied with structural sharing, only the elements
 * it touched are hashed again, and only their chunks — told apart from the base's by identity —
 * are combined again, so a one-objective change to 11,500 objectives hashes one objective and one
 * chunk, not the whole set.
 */
export class RuleSetDigester {
  private readonly elements = new WeakMap<object, string>();
  private readonly chunks = new WeakMap<readonly object[], readonly string[]>();
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
    const lines = ['filament-rules-digest/1', canonical(header)];
    const sections = { schemas, models, objectives };
    for (const name of SECTIONS) {
      const list = sections[name] as readonly object[];
      lines.push(`${name} ${list.length}`);
      const from = base?.[name] as readonly object[] | undefined;
      const indices = touched?.[name];
      const hashes =
        from !== undefined && indices instanceof Set
          ? this.touchedChunks(list, from, indices)
          : this.sectionChunks(list, from);
      for (const hash of hashes) lines.push(hash);
    }
    const digest = `sha256:${sha256(`${lines.join('\n')}\n`)}`;
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

  /** The chunk hashes of `list`, which is `base` with the elements at `indices` changed. */
  private touchedChunks(
    list: readonly object[],
    base: readonly object[],
    indices: ReadonlySet<number>,
  ): readonly string[] {
    const known = this.chunks.get(list);
    if (known !== undefined) return known;
    const baseHashes = this.chunks.get(base);
    if (baseHashes === undefined || base.length !== list.length)
      return this.sectionChunks(list, base);
    const hashes = [...baseHashes];
    for (const chunk of new Set([...indices].map((i) => Math.floor(i / DIGEST_CHUNK))))
      hashes[chunk] = this.chunkHash(list, chunk * DIGEST_CHUNK);
    this.chunks.set(list, hashes);
    return hashes;
  }

  private sectionChunks(list: readonly object[], base: readonly object[] | undefined) {
    let hashes = this.chunks.get(list);
    if (hashes !== undefined) return hashes;
    const baseHashes = base === undefined ? undefined : this.chunks.get(base);
    const out: string[] = [];
    for (let start = 0; start < list.length; start += DIGEST_CHUNK) {
      const end = Math.min(start + DIGEST_CHUNK, list.length);
      const reused = baseHashes?.[start / DIGEST_CHUNK];
      if (reused !== undefined && sameRun(list, base as readonly object[], start, end)) {
        out.push(reused);
        continue;
      }
      out.push(this.chunkHash(list, start));
    }
    hashes = out;
    this.chunks.set(list, hashes);
    return hashes;
  }

  private chunkHash(list: readonly object[], start: number): string {
    const end = Math.min(start + DIGEST_CHUNK, list.length);
    let text = '';
    for (let i = start; i < end; i++) text += `${this.element(list[i] as object)}\n`;
    return sha256(text);
  }

  private element(element: object): string {
    // A patched document may hold anything until its shape is checked: hashed, not cached.
    if (typeof element !== 'object' || element === null) return sha256(canonical(element));
    let hash = this.elements.get(element);
    if (hash === undefined) {
      hash = sha256(canonical(element));
      this.elements.set(element, hash);
    }
    return hash;
  }
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
