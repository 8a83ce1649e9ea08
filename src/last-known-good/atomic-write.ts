import { link, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Marks the temporary files {@linkcode writeFileAtomic} writes beside their target. */
const TEMP_MARK = '.tmp-';
/** Makes each temporary name unique within the process too (`{pid}.{n}`). */
let tempCounter = 0;

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old file or the
 * new one, never a mix and never neither: write a temporary file beside it, fsync it, rename it
 * over the target, then fsync the directory so the rename itself is durable.
 * When `keepPrevious` is given, it becomes a second name (hard link) of the old file before the
 * rename, so `path` exists throughout (a kill -9 loop found the earlier rename-then-rename leaving
 * only the previous copy when the crash fell between the two). That link is made under a
 * temporary name and renamed over `keepPrevious`, so concurrent writers never meet an EEXIST
 * between removing the old previous copy and linking the new one (an outside probe saw 52 of 500
 * saves fail that way).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  keepPrevious?: string,
): Promise<void> {
  const tmp = tempName(path);
  const handle = await open(tmp, 'w', 0o640);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    // A half-written temporary (ENOSPC) would keep the space the version floor needs next.
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  if (keepPrevious !== undefined) {
    const previous = tempName(keepPrevious);
    try {
      await link(path, previous);
      await rename(previous, keepPrevious);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    } finally {
      // rename() leaves both names when they already are links to one file (POSIX): drop ours.
      await rm(previous, { force: true });
    }
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

/**
 * Deletes temporary files that writers killed mid-write left in `dir` (those whose writer's pid,
 * part of the name, is no longer running); returns their names.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const stale = (await readdir(dir)).filter((name) => {
    const at = name.lastIndexOf(TEMP_MARK);
    return at >= 0 && !isRunning(Number.parseInt(name.slice(at + TEMP_MARK.length), 10));
  });
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale;
}

/** fsyncs a directory so renames and creations inside it survive a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function tempName(path: string): string {
  return `${path}${TEMP_MARK}${process.pid}.${++tempCounter}`;
}

/** Whether `error` says the disk (or the user's quota) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
