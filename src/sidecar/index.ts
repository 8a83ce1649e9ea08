/**
 * The composition root: wires config into running subsystems and owns their lifecycle.
 * @module
 */
export { Sidecar, type SidecarDeps, type SidecarStatus } from './sidecar.ts';
