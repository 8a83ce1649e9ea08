/**
 * Durable last-known-good rule sets and high-water versions in the state directory.
 * @module
 */
export { syncDirectory, writeFileAtomic } from './atomic-write.ts';
export {
  decodeStateRecord,
  encodeStateRecord,
  type StateHeader,
  type StateRecord,
} from './state-record.ts';
export { type LoadedState, type SaveInput, StateStore, StateWriteError } from './state-store.ts';
