import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isoTime } from '../clock/index.ts';
import { isDiskFull, removeStaleTemporaries, writeFileAtomic } from './atomic-write.ts';
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
}

/**
 * Last-known-good rule sets on disk, one tenant per file under `{dir}/rules/`:
 * `{tenant}.state` (current), `{tenant}.state.prev` (the copy before it) and `{tenant}.hwm`
 * (the high-water version, written first, so a corrupt state file can never lower it).
 * Every write is atomic (temp file, fsync, rename, fsync directory).
 */
export class StateStore {
  private readonly rulesDir: string;
  private readonly saving = new Map<string, Promise<void>>();

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
    const previous = this.saving.get(input.tenant) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.write(input));
    this.saving.set(input.tenant, next);
    const forget = () => {
      if (this.saving.get(input.tenant) === next) this.saving.delete(input.tenant);
    };
    next.then(forget, forget);
    return next;
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
          ...(this.owner ? { topicPrefix: this.owner.topicPrefix, trust: this.owner.trust() } : {}),
        },
        input.bytes,
      );
      await writeFileAtomic(`${base}.state`, record, `${base}.state.prev`);
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
      for (const suffix of ['.hwm', '.state', '.state.prev'])
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
      return { record: null, source: null, highWater: 0, problems, setAside };
    }
    if (!found) return { record: null, source: null, highWater, problems };
    highWater = Math.max(highWater, found.record.header.version);
    return { record: found.record, source: found.source, highWater, problems };
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
