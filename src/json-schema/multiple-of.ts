/**
 * JSON Schema `multipleOf` over binary floating point: `value` is a multiple of `divisor` when
 * their quotient is within a relative 1e-12 of a whole number — so 3.3 is a multiple of 1.1 and
 * 0.7 of 0.1 (the quotients are 2.9999999999999996 and 6.999999999999999), 0.35 is not one of
 * 0.1 — and never when the quotient overflows (1e308 by 0.123456789). Pure.
 */
export function isMultipleOf(divisor: number, value: number): boolean {
  const quotient = value / divisor;
  if (!Number.isFinite(quotient)) return false;
  return Math.abs(quotient - Math.round(quotient)) <= 1e-12 * Math.max(1, Math.abs(quotient));
}
