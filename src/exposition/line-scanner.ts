/**
 * The lexical pieces both exposition formats share, read off one line of a larger text without
 * copying the line: names (plain or quoted), quoted strings with their escapes, blanks, tokens.
 * One scanner is reused for every line of a body.
 */

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

/** Per ASCII code: 1 a label name may start with it, 2 one may go on with it, 4 it is `:`. */
const NAME_CHAR = (() => {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
    if (letter) table[c] = 3;
    else if (c >= 48 && c <= 57) table[c] = 2;
    else if (c === 58) table[c] = 4;
  }
  return table;
})();

/** Reads one line of a body: `pos` moves through `[start, end)`; what was read is in `token`. */
export class LineScanner {
  text = '';
  pos = 0;
  end = 0;
  /** The last name, string or token read. */
  token = '';
  /**
   * Text 0.0.4 refuses an escape other than `\\`, `\n` and `\"` (as prometheus/common does);
   * OpenMetrics keeps it as written (as the Prometheus and Python OpenMetrics parsers do).
   */
  strictEscapes = true;

  /** Starts on the line `text[start, end)`. */
  line(text: string, start: number, end: number): void {
    this.text = text;
    this.pos = start;
    this.end = end;
  }

  /** The character code at `pos`, or -1 at the end of the line. */
  peek(): number {
    return this.pos < this.end ? this.text.charCodeAt(this.pos) : -1;
  }

  /** True when the character at `pos` is a blank or a tab. */
  atBlank(): boolean {
    const c = this.peek();
    return c === SPACE || c === TAB;
  }

  /** Skips blanks and tabs. */
  skipBlanks(): void {
    while (this.atBlank()) this.pos++;
  }

  /** Reads up to the next blank, tab or the end of the line into `token`. */
  readUntilBlank(): string {
    const from = this.pos;
    while (this.pos < this.end && !this.atBlank()) this.pos++;
    this.token = this.text.slice(from, this.pos);
    return this.token;
  }

  /** Moves past the next token (up to a blank, a tab or the end) without copying it; its start. */
  skipToken(): number {
    const from = this.pos;
    while (this.pos < this.end && !this.atBlank()) this.pos++;
    return from;
  }

  /** True when the token `[from, pos)` is `word`. */
  tokenIs(from: number, word: string): boolean {
    return this.pos - from === word.length && this.text.startsWith(word, from);
  }

  /** Reads up to the next exact space (OpenMetrics separators) or the end into `token`. */
  readUntilSpace(): string {
    const from = this.pos;
    let i = this.pos;
    const { text, end } = this;
    while (i < end && text.charCodeAt(i) !== SPACE) i++;
    this.pos = i;
    this.token = text.slice(from, i);
    return this.token;
  }

  /** Where a plain name starting at `pos` ends (`pos` itself when none starts there). */
  plainNameEnd(metric: boolean): number {
    const { text, end } = this;
    const start = metric ? 5 : 1;
    const go = metric ? 6 : 2;
    let i = this.pos;
    if (i >= end) return i;
    const c = text.charCodeAt(i);
    if (c >= 128 || ((NAME_CHAR[c] as number) & start) === 0) return i;
    for (i++; i < end; i++) {
      const d = text.charCodeAt(i);
      if (d >= 128 || ((NAME_CHAR[d] as number) & go) === 0) break;
    }
    return i;
  }

  /**
   * Takes a plain name equal to `known` if one stands at `pos` (the line before often had it),
   * without copying it out: `token` becomes `known` itself. False, and nothing read, otherwise.
   */
  takeName(known: string, metric: boolean): boolean {
    const { text, pos } = this;
    if (known === '' || !text.startsWith(known, pos)) return false;
    const after = pos + known.length;
    if (after < this.end) {
      const d = text.charCodeAt(after);
      if (d < 128 && ((NAME_CHAR[d] as number) & (metric ? 6 : 2)) !== 0) return false;
    }
    this.token = known;
    this.pos = after;
    return true;
  }

  /**
   * Takes a quoted string equal to `known` (which has no quote, backslash or newline, so it is
   * written as is) if one stands at `pos`, without copying it out. False otherwise.
   */
  takeQuoted(known: string): boolean {
    const { text, pos } = this;
    const close = pos + 1 + known.length;
    if (close >= this.end || text.charCodeAt(close) !== QUOTE || !text.startsWith(known, pos + 1))
      return false;
    this.token = known;
    this.pos = close + 1;
    return true;
  }

  /**
   * Reads a name, plain (`[a-zA-Z_:][a-zA-Z0-9_:]*`, no `:` for a label) or quoted (any UTF-8,
   * with escapes), into `token`. Returns an error sentence, or `undefined`; an empty `token` when
   * no name starts here.
   */
  readName(metric: boolean, what: string): string | undefined {
    if (this.peek() === QUOTE) return this.readQuoted(what);
    const to = this.plainNameEnd(metric);
    this.token = this.text.slice(this.pos, to);
    this.pos = to;
    return undefined;
  }

  /**
   * Reads a quoted string starting at `pos` (on its opening quote) into `token`, escapes undone.
   * Returns an error sentence (a bad escape, no closing quote on this line), or `undefined`.
   */
  readQuoted(what: string): string | undefined {
    const { text, end } = this;
    let i = this.pos + 1;
    const from = i;
    // Fast path: no escapes.
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.token = text.slice(from, i);
        this.pos = i + 1;
        return undefined;
      }
      if (c === BACKSLASH) break;
      i++;
    }
    let out = text.slice(from, i);
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.token = out;
        this.pos = i + 1;
        return undefined;
      }
      if (c !== BACKSLASH) {
        out += text[i];
        i++;
        continue;
      }
      if (i + 1 >= end) break;
      const next = text.charCodeAt(i + 1);
      if (next === BACKSLASH) out += '\\';
      else if (next === QUOTE) out += '"';
      else if (next === 110) out += '\n';
      else if (this.strictEscapes) return `invalid escape sequence '\\${text[i + 1]}' in ${what}`;
      else out += `\\${text[i + 1]}`;
      i += 2;
    }
    return `${what} "${out}" contains unescaped new-line (no closing quote on the line)`;
  }

  /** The rest of the line with HELP's escapes undone (`\\`, `\n`, and `\"`). */
  readHelp(): string | undefined {
    const { text, end } = this;
    const from = this.pos;
    let first = from;
    while (first < end && text.charCodeAt(first) !== BACKSLASH) first++;
    if (first === end) {
      this.token = text.slice(from, end);
      this.pos = end;
      return undefined;
    }
    let out = text.slice(from, first);
    let i = first;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c !== BACKSLASH) {
        out += text[i];
        i++;
        continue;
      }
      const next = i + 1 < end ? text.charCodeAt(i + 1) : -1;
      if (next === BACKSLASH) out += '\\';
      else if (next === 110) out += '\n';
      else if (next === QUOTE) out += '"';
      else if (this.strictEscapes)
        return next === -1
          ? 'HELP text ends in a lone backslash'
          : `invalid escape sequence '\\${text[i + 1]}' in HELP text`;
      else {
        out += '\\';
        i++;
        continue;
      }
      i += 2;
    }
    this.token = out;
    this.pos = end;
    return undefined;
  }
}
