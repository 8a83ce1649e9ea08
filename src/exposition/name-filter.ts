/** The sample names a family may write: itself and every suffix either format gives its samples. */
const SUFFIXES = [
  '',
  '_total',
  '_created',
  '_sum',
  '_count',
  '_bucket',
  '_gsum',
  '_gcount',
  '_info',
];

/**
 * Which sample names to read, asked about a stretch of the body without copying it out: the
 * names are kept by length, and a stretch is compared in place, so a line of a family nobody
 * wants costs no allocation.
 */
export class NameFilter {
  private readonly byLength = new Map<number, string[]>();
  private readonly families: ReadonlySet<string>;

  /** Wants every sample name of each of `families` (see `SUFFIXES`). */
  constructor(families: Iterable<string>) {
    this.families = new Set(families);
    for (const family of this.families)
      for (const suffix of SUFFIXES) {
        const name = family + suffix;
        const list = this.byLength.get(name.length);
        if (list === undefined) this.byLength.set(name.length, [name]);
        else if (!list.includes(name)) list.push(name);
      }
  }

  /** True when `text[from, to)` is a wanted sample name. */
  wants(text: string, from: number, to: number): boolean {
    const list = this.byLength.get(to - from);
    if (list === undefined) return false;
    for (const name of list) if (text.startsWith(name, from)) return true;
    return false;
  }

  /** True when `name` (already read) is a wanted sample name. */
  wantsName(name: string): boolean {
    return this.wants(name, 0, name.length);
  }

  /** True when `name` is one of the families asked for. */
  wantsFamily(name: string): boolean {
    return this.families.has(name);
  }
}
