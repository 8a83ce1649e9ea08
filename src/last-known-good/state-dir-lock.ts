import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isDiskFull, isRunning } from './atomic-write.ts';

/** Who holds a state directory, as written in its `lock` file. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** What the holder is, for the refusal message (e.g. replica and topic prefix). */
  readonly label: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

/** Thrown when another live process holds the state directory. */
export class StateDirLockedError extends Error {
  override readonly name = 'StateDirLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `state directory ${dir} is in use by pid ${holder.pid} on ${holder.host} (${holder.label}, since ${holder.since}); two sidecars must not share one: give each its own state.dir`,
    );
  }
}

/**
 * An exclusive lock on a state directory: a `lock` file created with `link()` (atomic: exactly one
 * of two racing starters gets it) naming the holder. One whose holder runs on this host is refused
 * with its pid and label; one whose holder is gone (a crash, a kill -9), or was taken on another
 * host (a renamed host, a container restarted under a new name), is taken over and reported in
 * {@linkcode tookOver}. Held for the life of the sidecar; {@linkcode release} removes it only
 * while it is still ours.
 */
export class StateDirLock {
  private constructor(
    private readonly path: string,
    private readonly holder: LockHolder,
    /** The previous holder whose lock was taken over, if any. */
    readonly tookOver: LockHolder | null,
  ) {}

  /**
   * Takes the lock on `dir` (which must exist) for this process.
   * @throws {StateDirLockedError} when a live process holds it.
   */
  static async acquire(
    dir: string,
    label: string,
    options: { readonly now?: number; readonly freeSpace?: () => Promise<void> } = {},
  ): Promise<StateDirLock> {
    const now = options.now ?? Date.now();
    const path = join(dir, 'lock');
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      label,
      since: new Date(now).toISOString(),
    };
    const mine = `${path}.${process.pid}`;
    await writeHolderFile(mine, holder, options.freeSpace);
    let stale: LockHolder | null = null;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(mine, path);
          return new StateDirLock(path, holder, stale);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        }
        const current = await readHolder(path);
        if (current !== null && current.host === holder.host && isRunning(current.pid))
          throw new StateDirLockedError(dir, current);
        stale = current;
        // The holder is gone (or the file is unreadable): move it aside, then race for it again.
        await rename(path, `${path}.stale-${process.pid}`).catch(() => {});
        await rm(`${path}.stale-${process.pid}`, { force: true });
      }
      throw new Error(`could not take the lock ${path} after 3 attempts`);
    } finally {
      await rm(mine, { force: true });
    }
  }

  /** Removes the lock file if it still names this process. Idempotent. */
  async release(): Promise<void> {
    const current = await readHolder(this.path);
    if (current?.pid === this.holder.pid && current.since === this.holder.since)
      await rm(this.path, { force: true });
  }
}

/**
 * Writes the holder file. A full disk must not keep a sidecar from starting on its last-known-good
 * rules: the space kept in reserve is given up, and failing that the file stays empty (it still
 * locks; a later starter cannot name the holder and takes it over).
 */
async function writeHolderFile(
  path: string,
  holder: LockHolder,
  freeSpace: (() => Promise<void>) | undefined,
): Promise<void> {
  const text = `${JSON.stringify(holder)}\n`;
  try {
    await writeFile(path, text, { mode: 0o640 });
    return;
  } catch (error) {
    if (!isDiskFull(error)) throw error;
  }
  await freeSpace?.();
  try {
    await writeFile(path, text, { mode: 0o640 });
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    await writeFile(path, '', { mode: 0o640 });
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof holder?.pid === 'number' ? holder : null;
  } catch {
    return null;
  }
}
