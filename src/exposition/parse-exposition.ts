import { NameFilter } from './name-filter.ts';
import { parseOpenMetrics } from './parse-openmetrics.ts';
import { parseText } from './parse-text.ts';
import type { ExpositionOptions, ExpositionResult } from './types.ts';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a metrics exposition body: Prometheus text 0.0.4 (the default, read as prometheus/common's
 * Go parser reads it) or OpenMetrics 1.0. Bytes are decoded as UTF-8 and refused when they are not
 * (the formats are UTF-8). With `families`, only those families are read; every other line costs
 * only finding its name and end. Never throws: a bad body gives `{ ok: false, error }` naming the
 * line and what was wrong with it.
 */
export function parseExposition(
  body: string | Uint8Array,
  options: ExpositionOptions = {},
): ExpositionResult {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = STRICT_UTF8.decode(body);
    } catch {
      return {
        ok: false,
        error: { line: lineOfBadUtf8(body), message: 'the body is not valid UTF-8' },
      };
    }
  }
  const filter = filterFor(options.families);
  return options.format === 'openmetrics'
    ? parseOpenMetrics(text, filter)
    : parseText(text, filter);
}

const FILTERS = new WeakMap<object, NameFilter>();

/** The filter for `families`, made once per list (a preset passes the same list every scrape). */
function filterFor(families: Iterable<string> | undefined): NameFilter | undefined {
  if (families === undefined) return undefined;
  let filter = FILTERS.get(families);
  if (filter === undefined) {
    filter = new NameFilter(families);
    FILTERS.set(families, filter);
  }
  return filter;
}

/** The format a Content-Type names: OpenMetrics for `application/openmetrics-text`, else text. */
export function formatOfContentType(contentType: string): 'prometheus-text' | 'openmetrics' {
  return contentType.toLowerCase().includes('application/openmetrics-text')
    ? 'openmetrics'
    : 'prometheus-text';
}

/** The line of the first replacement character a lossy decoding gives (where the bad bytes are). */
function lineOfBadUtf8(bytes: Uint8Array): number {
  const lossy = new TextDecoder('utf-8').decode(bytes);
  const at = lossy.indexOf('\uFFFD');
  let line = 1;
  for (let i = lossy.indexOf('\n'); i !== -1 && i < at; i = lossy.indexOf('\n', i + 1)) line++;
  return line;
}
