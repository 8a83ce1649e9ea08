/**
 * The wire contracts shared by sidecars and resolvers: the SaturationReport (replica states,
 * signal names, the report type and its MessagePack encoding, `report.schema.json`) and the
 * servable set each host publishes (`servable-set.schema.json`). It stands alone:
 * it imports no collector, monitor or I/O, so the resolver library can load it by itself.
 * @module
 */
export {
  REPLICA_STATES,
  type ReplicaState,
  SIGNAL_NAMES,
  type SignalName,
} from './replica-states.ts';
export {
  DEFAULT_CAPACITY,
  DEFAULT_HEARTBEAT_MS,
  decodeReport,
  encodeReport,
  type SaturationReport,
} from './report.ts';
export {
  decodeServableSet,
  encodeServableSet,
  MAX_SERVABLE_SET_BYTES,
  type ServableSet,
  servableSetTopic,
  type TenantServable,
} from './servable-set.ts';
