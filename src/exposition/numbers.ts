/**
 * Numbers as the exposition formats write them, read the way the reference parsers read them:
 * Go's `strconv.ParseFloat` without hex floats or underscores (prometheus/common refuses those),
 * so `0x1`, `0b1`, `1_2` and an empty value are refused rather than read as something.
 */

/** True for the characters a decimal number may contain: digits, `.`, `e`, `E`, `+`, `-`. */
function decimalCharsOnly(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 0-9 . + - e E
    if ((c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69) continue;
    return false;
  }
  return true;
}

/**
 * A sample value or a `le`/`quantile` label: decimal with optional sign and exponent, or `NaN`,
 * `Inf`, `+Inf`, `-Inf`, `Infinity` in any case (as Go reads them). `undefined` when it is none of
 * these, or when a finite literal overflows a float64 (Go's ErrRange).
 */
export function parseFloatValue(s: string): number | undefined {
  if (decimalCharsOnly(s)) {
    // With only these characters, Number() accepts exactly the decimal grammar (NaN otherwise).
    const v = Number(s);
    return Number.isNaN(v) || !Number.isFinite(v) ? undefined : v;
  }
  switch (s.toLowerCase()) {
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    case 'nan':
      return Number.NaN;
    default:
      return undefined;
  }
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** A text-format timestamp: a base-10 int64 of milliseconds (`+` allowed, as Go's ParseInt). */
export function parseIntTimestamp(s: string): number | undefined {
  let i = s.charCodeAt(0) === 43 || s.charCodeAt(0) === 45 ? 1 : 0;
  if (i === s.length) return undefined;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  if (s.length >= 19) {
    const big = BigInt(s);
    if (big > INT64_MAX || big < INT64_MIN) return undefined;
  }
  return Number(s);
}

/** An OpenMetrics timestamp: seconds as a finite decimal (`1.5e3`, `000`), returned in ms. */
export function parseSecondsTimestamp(s: string): number | undefined {
  if (!decimalCharsOnly(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v * 1000 : undefined;
}
