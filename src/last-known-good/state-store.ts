import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isoTime } from '../clock/index.ts';
import { removeStaleTemporaries, writeFileAtomic } from './atomic-write.ts';
import { decodeStateRecord, encodeStateRecord, type StateRecord } from './state-record.ts';

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

  constructor(readonly dir: string) {
    this.rulesDir = join(dir, 'rules');
  }

  /** Creates the state directory if needed. @throws {StateWriteError} when it cannot. */
  async open(): Promise<void> {
    try {
      await mkdir(this.rulesDir, { recursive: true, mode: 0o750 });
      await removeStaleTemporaries(this.rulesDir);
    } catch (error) {
      throw new StateWriteError(
        `cannot create state directory ${this.rulesDir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Durably records `input` as the tenant's last-known-good. @throws {StateWriteError} */
  async save(input: SaveInput): Promise<void> {
    const base = join(this.rulesDir, input.tenant);
    try {
      const known = await this.readHighWater(input.tenant);
      if (input.version > known) await writeFileAtomic(`${base}.hwm`, `${input.version}\n`);
      const record = encodeStateRecord(
        {
          tenant: input.tenant,
          version: input.version,
          encoding: input.encoding,
          appliedAt: isoTime(input.appliedAt),
          ...(input.envelope ? { envelope: true } : {}),
        },
        input.bytes,
      );
      await writeFileAtomic(`${base}.state`, record, `${base}.state.prev`);
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
    const base = join(this.rulesDir, tenant);
    try {
      for (const suffix of ['.hwm', '.state', '.state.prev'])
        await rename(`${base}${suffix}`, `${base}${suffix}.untrusted`).catch((error) => {
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
    for (const [file, source] of [
      [`${base}.state`, 'current'],
      [`${base}.state.prev`, 'previous'],
    ] as const) {
      const result = await readRecord(file, tenant);
      if ('error' in result) {
        if (result.error !== null) problems.push(`${file}: ${result.error}`);
        continue;
      }
      highWater = Math.max(highWater, result.header.version);
      return { record: result, source, highWater, problems };
    }
    return { record: null, source: null, highWater, problems };
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
