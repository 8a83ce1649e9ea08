import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { RuleSet } from './types.ts';

/** The sections of a rule set hashed element by element. */
const SECTIONS = ['schemas', 'models', 'objectives'] as const;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The rule-set digest (docs/rule-deltas.md): `sha256:` and the hex SHA-256 of a text made of the
 * RFC 8785 canonical JSON of the set without its arrays, then, per section (schemas, models,
 * objectives), its name and count and each element's own SHA-256 in order. Independent of the
 * encoding (JSON or MessagePack) and of key order. Element hashes are cached by object: after a
 * delta applied with structural sharing, only the elements it touched are hashed again.
 */
export class RuleSetDigester {
  private readonly elements = new WeakMap<object, string>();

  /** The digest of `ruleSet`. */
  digest(ruleSet: RuleSet): string {
    const { schemas, models, objectives, ...header } = ruleSet;
    const lines = ['filament-rules-digest/1', canonical(header)];
    const sections = { schemas, models, objectives };
    for (const name of SECTIONS) {
      const list = sections[name] as readonly object[];
      lines.push(`${name} ${list.length}`);
      for (const element of list) lines.push(this.element(element));
    }
    return `sha256:${sha256(`${lines.join('\n')}\n`)}`;
  }

  /**
   * Hashes `ruleSet`'s elements ahead of need, `chunk` at a time with a turn of the event loop
   * between (so a 100 ms cold digest never holds up requests): the first delta after a full set
   * then finds them cached.
   */
  async warm(ruleSet: RuleSet, chunk = 256): Promise<void> {
    let done = 0;
    for (const name of SECTIONS)
      for (const element of ruleSet[name] as readonly object[]) {
        this.element(element);
        if (++done % chunk === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
  }

  private element(element: object): string {
    let hash = this.elements.get(element);
    if (hash === undefined) {
      hash = sha256(canonical(element));
      this.elements.set(element, hash);
    }
    return hash;
  }
}

/** The digest of `ruleSet`, without a cache. */
export function ruleSetDigest(ruleSet: RuleSet): string {
  return new RuleSetDigester().digest(ruleSet);
}

function canonical(value: unknown): string {
  return canonicalize(value) as string;
}
