import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isoTime } from '../clock/index.ts';
import {
  isDiskFull,
  removeStaleTemporaries,
  syncDirectory,
  writeFileAtomic,
} from './atomic-write.ts';
import { decodeJournal, encodeJournalEntry, type JournalEntry } from './delta-journal.ts';
import { decodeStateRecord, encodeStateRecord, type StateRecord } from './state-record.ts';

/** Space kept in the state directory for version floors when the disk fills up. */
const RESERVE_BYTES = 64 * 1024;

/** Thrown when the state directory cannot be written; the caller must not acknowledge then. */
export class StateWriteError extends Error {
  override readonly name = 'StateWriteError';
}

/** The last-known-good rule set of a tenant, as found on disk at start. */
export interface LoadedState {
  /** The usable record (current file, else the previous copy), or `null` when neither is usable. */
  readonly record: StateRecord | null;
  /** Which file the record came from. */
  readonly source: 'current' | 'previous' | null;
  /** Highest version ever applied for the tenant (0 when unknown); never lowered by corruption. */
  readonly highWater: number;
  /**
   * Deltas applied on top of `record` since it was written, oldest first (from `{tenant}.journal`),
   * each continuing the version before: apply them in order after the record.
   */
  readonly deltas: readonly JournalEntry[];
  /** Why files were passed over, for logging. */
  readonly problems: readonly string[];
  /**
   * Set when what was on disk belongs to another stream (another topic prefix) and was moved
   * aside as `*.foreign` files instead of being served.
   */
  readonly setAside?: string;
}

/** What the records of a state directory belong to; a record of another owner is never served. */
export interface StateOwner {
  readonly topicPrefix: string;
  /**
   * A fingerprint of the trust root in force (sorted key ids and threshold, or `none`), asked at
   * each save and recorded for diagnosis; whether a record still verifies is decided on restore.
   */
  readonly trust: () => string;
}

/** What {@linkcode StateStore.save} writes. */
export interface SaveInput {
  readonly tenant: string;
  readonly version: number;
  readonly encoding: 'json' | 'msgpack';
  readonly appliedAt: number;
  readonly bytes: Uint8Array;
  /** `bytes` is a signed envelope. */
  readonly envelope?: boolean;
  /** For a set a delta made: that delta as it arrived, which vouches for the set on restore. */
  readonly attestation?: { readonly bytes: Uint8Array; readonly envelope: boolean };
}

/** What {@linkcode StateStore.appendDelta} writes: a delta applied on top of the saved version. */
export interface AppendInput extends JournalEntry {
  readonly tenant: string;
}

/** A snapshot is written instead of a journal entry once the journal holds this many deltas… */
export const MAX_JOURNAL_ENTRIES = 64;
/** …or this many bytes: restoring then replays at most that much. */
export const MAX_JOURNAL_BYTES = 1 << 20;

/**
 * Last-known-good rule sets on disk, one tenant per file under `{dir}/rules/`:
 * `{tenant}.state` (current), `{tenant}.state.prev` (the copy before it), `{tenant}.hwm` (the
 * high-water version, written before each snapshot, so a corrupt state file can never lower it)
 * and `{tenant}.journal` (the deltas applied since the snapshot, each frame carrying its version:
 * the floor is the newest of `.hwm` and the last intact frame). A snapshot write is atomic (temp
 * file, fsync, rename, fsync directory); a journal append is one write and one fdatasync.
 */
export class StateStore {
  private readonly rulesDir: string;
  private readonly saving = new Map<string, Promise<unknown>>();
  /** Per tenant, the version the files on disk end at and how much the journal holds. */
  private readonly tails = new Map<string, { version: number; entries: number; bytes: number }>();

  /**
   * @param owner What this sidecar follows: written into every record and compared on load.
   *   Without it (tools, tests) records are read whoever wrote them.
   */
  constructor(
    readonly dir: string,
    private readonly owner?: StateOwner,
  ) {
    this.rulesDir = join(dir, 'rules');
  }

  /** Creates the state directory if needed. @throws {StateWriteError} when it cannot. */
  async open(): Promise<void> {
    try {
      await mkdir(this.rulesDir, { recursive: true, mode: 0o750 });
      await removeStaleTemporaries(this.rulesDir);
      await this.keepReserve();
    } catch (error) {
      throw new StateWriteError(
        `cannot create state directory ${this.rulesDir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Durably records `input` as the tenant's last-known-good. Saves of one tenant run one after
   * another (the high-water check-then-write must not interleave). @throws {StateWriteError}
   */
  save(input: SaveInput): Promise<void> {
    return this.queue(input.tenant, () => this.write(input));
  }

  /**
   * Durably appends a delta to the tenant's journal (`{tenant}.journal`, fsynced) — a few hundred
   * bytes instead of the whole set — when it applies to the version the files end at and the
   * journal has room ({@linkcode MAX_JOURNAL_ENTRIES}, {@linkcode MAX_JOURNAL_BYTES}). Resolves
   * `false` when it does not: the caller then saves the complete set, which empties the journal.
   * @throws {StateWriteError}
   */
  appendDelta(input: AppendInput): Promise<boolean> {
    return this.queue(input.tenant, () => this.append(input));
  }

  /** Runs `task` after the tenant's earlier writes (a check-then-write must not interleave). */
  private queue<T>(tenant: string, task: () => Promise<T>): Promise<T> {
    const previous = this.saving.get(tenant) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(task);
    this.saving.set(tenant, next);
    const forget = () => {
      if (this.saving.get(tenant) === next) this.saving.delete(tenant);
    };
    next.then(forget, forget);
    return next;
  }

  private async append(input: AppendInput): Promise<boolean> {
    const tail = this.tails.get(input.tenant);
    const frame = encodeJournalEntry(input);
    if (
      tail === undefined ||
      tail.version !== input.base ||
      tail.entries >= MAX_JOURNAL_ENTRIES ||
      tail.bytes + frame.byteLength > MAX_JOURNAL_BYTES
    )
      return false;
    const base = join(this.rulesDir, input.tenant);
    try {
      // No `.hwm` write here: the frame itself carries the version, and a load takes the floor
      // from the newest intact frame (two fsyncs fewer per delta). The `.hwm` catches up at the
      // next snapshot, at most MAX_JOURNAL_ENTRIES deltas later.
      // Marked stale first: if the append fails half-way, the next save writes a snapshot.
      this.tails.delete(input.tenant);
      const file = await open(`${base}.journal`, 'a', 0o640);
      try {
        await file.write(frame);
        await file.datasync();
      } finally {
        await file.close();
      }
      if (tail.entries === 0) await syncDirectory(this.rulesDir);
    } catch (error) {
      throw new StateWriteError(
        `cannot journal the delta of "${input.tenant}" v${input.base} → v${input.version}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.tails.set(input.tenant, {
      version: input.version,
      entries: tail.entries + 1,
      bytes: tail.bytes + frame.byteLength,
    });
    return true;
  }

  private async write(input: SaveInput): Promise<void> {
    const base = join(this.rulesDir, input.tenant);
    try {
      const known = await this.readHighWater(input.tenant);
      if (input.version > known) await this.writeHighWater(base, input.version);
      const record = encodeStateRecord(
        {
          tenant: input.tenant,
          version: input.version,
          encoding: input.encoding,
          appliedAt: isoTime(input.appliedAt),
          ...(input.envelope ? { envelope: true } : {}),
          ...(input.attestation
            ? {
                attestation: {
                  length: input.attestation.bytes.byteLength,
                  envelope: input.attestation.envelope,
                },
              }
            : {}),
          ...(this.owner ? { topicPrefix: this.owner.topicPrefix, trust: this.owner.trust() } : {}),
        },
        input.bytes,
        input.attestation?.bytes,
      );
      this.tails.delete(input.tenant);
      await writeFileAtomic(`${base}.state`, record, `${base}.state.prev`);
      // The journal continued the set just replaced; the new one starts a new journal.
      await rm(`${base}.journal`, { force: true });
      this.tails.set(input.tenant, { version: input.version, entries: 0, bytes: 0 });
      await this.keepReserve();
    } catch (error) {
      throw new StateWriteError(
        `cannot persist rules of "${input.tenant}" v${input.version}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Sets aside everything remembered about a tenant (both copies and the high-water version) as
   * `*.untrusted` files, for when the configured trust root no longer vouches for them: after
   * signing keys were rotated, a version floor set by a rotated-out key must not block the new
   * key's sets (TUF's recovery from a fast-forward attack). @throws {StateWriteError}
   */
  async discard(tenant: string): Promise<void> {
    await this.setAside(tenant, 'untrusted');
  }

  private async setAside(tenant: string, as: 'untrusted' | 'foreign'): Promise<void> {
    const base = join(this.rulesDir, tenant);
    try {
      this.tails.delete(tenant);
      for (const suffix of ['.hwm', '.state', '.state.prev', '.journal'])
        await rename(`${base}${suffix}`, `${base}${suffix}.${as}`).catch((error) => {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        });
    } catch (error) {
      throw new StateWriteError(
        `cannot set aside the rules of "${tenant}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Reads the tenant's last-known-good, falling back to the previous copy; never throws. */
  async load(tenant: string): Promise<LoadedState> {
    const base = join(this.rulesDir, tenant);
    const problems: string[] = [];
    let highWater = await this.readHighWater(tenant, problems);
    let found: { record: StateRecord; source: 'current' | 'previous' } | null = null;
    for (const [file, source] of [
      [`${base}.state`, 'current'],
      [`${base}.state.prev`, 'previous'],
    ] as const) {
      const result = await readRecord(file, tenant);
      if ('error' in result) {
        if (result.error !== null) problems.push(`${file}: ${result.error}`);
        continue;
      }
      found = { record: result, source };
      break;
    }
    // The record says which stream it came from; its version floor goes with it.
    const foreign = found?.record.header.topicPrefix;
    if (foreign !== undefined && this.owner && foreign !== this.owner.topicPrefix) {
      await this.setAside(tenant, 'foreign');
      const setAside = `the rules of "${tenant}" on disk came from topic prefix "${foreign}", not "${this.owner.topicPrefix}": set aside as *.foreign`;
      return { record: null, source: null, highWater: 0, deltas: [], problems, setAside };
    }
    if (!found) return { record: null, source: null, highWater, deltas: [], problems };
    const journal = await this.readJournal(tenant, found.record.header.version, problems);
    highWater = Math.max(highWater, journal.at(-1)?.version ?? found.record.header.version);
    return { record: found.record, source: found.source, highWater, deltas: journal, problems };
  }

  /** The journal's deltas on top of `from`; remembers where the files end, for the next append. */
  private async readJournal(
    tenant: string,
    from: number,
    problems: string[],
  ): Promise<readonly JournalEntry[]> {
    const file = join(this.rulesDir, `${tenant}.journal`);
    let data: Uint8Array;
    try {
      data = new Uint8Array(await readFile(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        problems.push(`${file}: ${(error as Error).message}`);
      this.tails.set(tenant, { version: from, entries: 0, bytes: 0 });
      return [];
    }
    const { entries, problem } = decodeJournal(data, from);
    if (problem !== undefined) problems.push(`${file}: ${problem}; the deltas before it are kept`);
    // After a torn or foreign frame, the next save writes a snapshot rather than append to it.
    if (problem === undefined)
      this.tails.set(tenant, {
        version: entries.at(-1)?.version ?? from,
        entries: entries.length,
        bytes: data.byteLength,
      });
    return entries;
  }

  /**
   * Writes the version floor first and small. On a full disk, the reserve file is given up so the
   * floor still reaches the disk even when the rule set itself cannot.
   */
  private async writeHighWater(base: string, version: number): Promise<void> {
    try {
      await writeFileAtomic(`${base}.hwm`, `${version}\n`);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      await this.releaseReserve();
      await writeFileAtomic(`${base}.hwm`, `${version}\n`);
    }
  }

  /** Gives up the space kept in reserve (for what must be written on a full disk). */
  async releaseReserve(): Promise<void> {
    await rm(this.reservePath, { force: true });
  }

  /** Best effort: keeps {@linkcode RESERVE_BYTES} set aside for version floors on a full disk. */
  private async keepReserve(): Promise<void> {
    try {
      if ((await stat(this.reservePath).catch(() => null))?.size === RESERVE_BYTES) return;
      await writeFile(this.reservePath, new Uint8Array(RESERVE_BYTES), { mode: 0o640 });
    } catch {
      await rm(this.reservePath, { force: true }).catch(() => {});
    }
  }

  private get reservePath(): string {
    return join(this.rulesDir, '.reserve');
  }

  private async readHighWater(tenant: string, problems?: string[]): Promise<number> {
    const file = join(this.rulesDir, `${tenant}.hwm`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        problems?.push(`${file}: ${(error as Error).message}`);
      return 0;
    }
    const value = Number(text.trim());
    if (!Number.isSafeInteger(value) || value < 0) {
      problems?.push(`${file}: not a version number (${JSON.stringify(text.slice(0, 20))})`);
      return 0;
    }
    return value;
  }
}

async function readRecord(
  file: string,
  tenant: string,
): Promise<StateRecord | { error: string | null }> {
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(file));
  } catch (error) {
    return {
      error: (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : (error as Error).message,
    };
  }
  const record = decodeStateRecord(data);
  if ('error' in record) return record;
  if (record.header.tenant !== tenant)
    return { error: `holds tenant "${record.header.tenant}", expected "${tenant}"` };
  return record;
}
