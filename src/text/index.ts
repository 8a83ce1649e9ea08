/**
 * Small text helpers for terminal output.
 * @module
 */
export { formatTable } from './format-table.ts';
