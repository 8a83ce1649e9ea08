/**
 * The composition root: wires config into running subsystems and owns their lifecycle.
 * @module
 */

export type { SidecarDeps } from './core-parts.ts';
export type { ReloadOutcome } from './live-settings.ts';
export { Sidecar } from './sidecar.ts';
export { FILAMENT_COMMIT, FILAMENT_VERSION } from './version.ts';
