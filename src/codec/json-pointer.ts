/** Appends one segment to a JSON pointer, escaping `~` and `/` as RFC 6901 says. */
export function joinPointer(base: string, segment: string | number): string {
  return `${base}/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}
