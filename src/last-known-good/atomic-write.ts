import { link, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Marks the temporary files {@linkcode writeFileAtomic} writes beside their target. */
const TEMP_MARK = '.tmp-';

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old file or the
 * new one, never a mix and never neither: write a temporary file beside it, fsync it, rename it
 * over the target, then fsync the directory so the rename itself is durable.
 * When `keepPrevious` is given, it becomes a second name (hard link) of the old file before the
 * rename, so `path` exists throughout (a kill -9 loop found the earlier rename-then-rename leaving
 * only the previous copy when the crash fell between the two).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  keepPrevious?: string,
): Promise<void> {
  const tmp = `${path}${TEMP_MARK}${process.pid}`;
  const handle = await open(tmp, 'w', 0o640);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (keepPrevious !== undefined) {
    await rm(keepPrevious, { force: true });
    try {
      await link(path, keepPrevious);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
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
    return at >= 0 && !isRunning(Number(name.slice(at + TEMP_MARK.length)));
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

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
