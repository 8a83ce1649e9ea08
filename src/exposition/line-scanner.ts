/**
 * The lexical pieces both exposition formats share, read off one line of a larger text without
 * copying the line: names (plain or quoted), quoted strings with their escapes, blanks, tokens.
 * One scanner is reused for every line of a body.
 */

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;

/** A letter or `_` (a label name's first character); `:` too where a metric name may have it. */
function nameStart(c: number, metric: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (metric && c === 58);
}

function nameContinue(c: number, metric: boolean): boolean {
  return nameStart(c, metric) || (c >= 48 && c <= 57);
}

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
    let i = this.pos;
    if (i >= end || !nameStart(text.charCodeAt(i), metric)) return i;
    i++;
    while (i < end && nameContinue(text.charCodeAt(i), metric)) i++;
    return i;
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
    const first = text.indexOf('\\', from);
    if (first === -1 || first >= end) {
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
