/**
 * The composition root: wires config into running subsystems and owns their lifecycle.
 * @module
 */
export { type ReloadOutcome, Sidecar, type SidecarDeps } from './sidecar.ts';
export { FILAMENT_COMMIT, FILAMENT_VERSION } from './version.ts';
