/**
 * The resolver-side library: follow saturation reports, keep a replica table, pick replicas —
 * counting its own requests between reports, fencing replicas whose requests fail.
 * @module
 */

// The header a resolver attaches to a request, and its reader: one implementation for both sides.
export {
  type CarrierError,
  OBJECTIVE_HEADER,
  objectiveBodyMember,
  readObjectiveFromBody,
  readObjectiveHeader,
  writeObjectiveHeader,
} from '../request-carrier/index.ts';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  DEFAULT_CIRCUIT_BREAKER,
} from './circuit-breaker.ts';
export { InFlightLedger, OUTCOME_WINDOW_MS } from './in-flight-ledger.ts';
export { type PickOptions, pickReplica } from './pick.ts';
export { type ReplicaEntry, ReplicaTable } from './replica-table.ts';
export {
  pickView,
  type ReplicaView,
  type StalePolicy,
  type ViewOptions,
  viewReplicas,
} from './replica-view.ts';
export {
  REFUSED_ENOUGH,
  Resolver,
  type ResolverOptions,
  type ServingPick,
} from './resolver.ts';
export { ServableTable, type ServeAnswer, type ServeWant } from './servable-table.ts';
export {
  DEFAULT_STALE_AFTER_MS,
  type Lease,
  type LeaseOutcome,
  Steering,
  type SteeringOptions,
} from './steering.ts';
