/**
 * Durable last-known-good rule sets and high-water versions in the state directory.
 * @module
 */
export { isRunning, syncDirectory, writeFileAtomic } from './atomic-write.ts';
export { type LockHolder, StateDirLock, StateDirLockedError } from './state-dir-lock.ts';
export {
  decodeStateRecord,
  encodeStateRecord,
  type StateHeader,
  type StateRecord,
} from './state-record.ts';
export {
  type LoadedState,
  type SaveInput,
  type StateOwner,
  StateStore,
  StateWriteError,
} from './state-store.ts';
