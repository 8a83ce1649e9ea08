/**
 * How many times `run` calls `String.prototype.slice` — the exposition reader's only way of
 * copying text out of a body — so a test or benchmark can tell what a skipped line costs.
 */
export function stringCopies(run: () => void): number {
  const slice = String.prototype.slice;
  let calls = 0;
  String.prototype.slice = function (this: string, ...args: [number?, number?]) {
    calls++;
    return slice.apply(this, args);
  };
  try {
    run();
  } finally {
    String.prototype.slice = slice;
  }
  return calls;
}
