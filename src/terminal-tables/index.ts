/**
 * Plain-text tables for terminal output: the column formatter, and the fleet view that
 * `filament top` and the demo print from a resolver's replica table.
 * @module
 */
export { renderFleet } from './fleet-table.ts';
export { formatTable } from './format-table.ts';
