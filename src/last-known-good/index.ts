/**
 * Durable last-known-good rule sets and high-water versions in the state directory.
 * @module
 */
export { isRunning, syncDirectory, writeFileAtomic } from './atomic-write.ts';
export { decodeJournal, encodeJournalEntry, type JournalEntry } from './delta-journal.ts';
export { type LockHolder, StateDirLock, StateDirLockedError } from './state-dir-lock.ts';
export {
  decodeStateRecord,
  encodeStateRecord,
  type StateHeader,
  type StateRecord,
} from './state-record.ts';
export {
  type AppendInput,
  type LoadedState,
  MAX_JOURNAL_BYTES,
  MAX_JOURNAL_ENTRIES,
  type SaveInput,
  type StateOwner,
  StateStore,
  StateWriteError,
} from './state-store.ts';
