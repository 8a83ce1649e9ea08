import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data` so that a crash at any moment leaves either the old file or the
 * new one, never a mix: write a temporary file beside it, fsync it, rename it over the target,
 * then fsync the directory so the rename itself is durable.
 * When `keepPrevious` is given, the old file is first renamed there (a crash between the two
 * renames leaves only the previous copy, which readers fall back to).
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  keepPrevious?: string,
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o640);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (keepPrevious !== undefined) {
    try {
      await rename(path, keepPrevious);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
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
