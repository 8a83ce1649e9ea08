/**
 * Following the rule stream: restore last-known-good, apply rule messages, persist, ACK/NACK.
 * @module
 */
export {
  type AckDocument,
  type AckIdentity,
  type AckServing,
  buildAck,
  MAX_ACK_UNSERVABLE,
} from './ack.ts';
export type { Durability } from './durable-saver.ts';
export { RuleFollower, type RuleFollowerOptions } from './rule-follower.ts';
