/**
 * The local gRPC API: health, reflection, filament.v1.Sidecar and ORCA, with the protos
 * embedded; and the ORCA relay a grpc-js model server puts on its own port.
 * @module
 */
export { ApiServer, type ApiServerOptions } from './api-server.ts';
export { CheckHttpServer, type CheckHttpServerOptions } from './check-http-server.ts';
export { DescriptorIndex } from './descriptor-index.ts';
export { HealthState, type ServingStatus, SIDECAR_SERVICE, tenantService } from './health-state.ts';
export {
  clientConstructor,
  decodeMessage,
  encodeMessage,
  MESSAGE_OPTIONS,
} from './load-definitions.ts';
export { ORCA_RELAY_SERVICE, type OrcaRelay, orcaRelay } from './orca-relay.ts';
export type { ConfigSnapshot, InventoryStatus, SidecarBackend } from './sidecar-backend.ts';
export { type ConfigMessage, type SaturationMessage, SidecarClient } from './sidecar-client.ts';
export type { StreamCancelled } from './stream-flow.ts';
export { ApiBindError, answers, prepareSocketPath } from './unix-socket.ts';
