/** What a replica can be, as reported to resolvers. OFFLINE is only ever published by the will. */
export const REPLICA_STATES = [
  'COLD',
  'WARMING',
  'READY',
  'SATURATED',
  'DRAINING',
  'STALE_RULES',
  'UNHEALTHY',
  'OFFLINE',
] as const;

/** One of {@linkcode REPLICA_STATES}. */
export type ReplicaState = (typeof REPLICA_STATES)[number];

/** Names of the load signals a report can carry and list as stale. */
export const SIGNAL_NAMES = ['queue', 'running', 'kvCache', 'gpu', 'latency'] as const;

/** One of {@linkcode SIGNAL_NAMES}. */
export type SignalName = (typeof SIGNAL_NAMES)[number];
