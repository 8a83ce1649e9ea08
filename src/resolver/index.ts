/**
 * The resolver-side library: follow saturation reports, keep a replica table, pick replicas.
 * @module
 */

export { type PickOptions, pickReplica } from './pick.ts';
export { type ReplicaEntry, ReplicaTable } from './replica-table.ts';
export { Resolver, type ResolverOptions, type ServingPick } from './resolver.ts';
export { ServableTable, type ServeAnswer, type ServeWant } from './servable-table.ts';
