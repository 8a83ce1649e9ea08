import { mkdir, stat, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';

/** Thrown when the API cannot listen where it was told to; the message says why and what to do. */
export class ApiBindError extends Error {
  override readonly name = 'ApiBindError';
}

/**
 * `host:port` (an IPv6 host in brackets) as a listen address; `setting` names the config key in
 * the error. @throws {ApiBindError}
 */
export function tcpAddress(listen: string, setting: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (!match) throw new ApiBindError(`${setting} must be host:port, got "${listen}"`);
  return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}

/**
 * Makes `path` ready for a new unix-socket listener: creates its directory, refuses to touch a
 * socket another live process answers on (or a file that is not a socket), and removes a stale
 * socket left by a crash.
 * @throws {ApiBindError}
 */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ApiBindError(`cannot inspect ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!info.isSocket())
    throw new ApiBindError(`${path} exists and is not a socket; refusing to replace it`);
  if (await answers(path)) {
    throw new ApiBindError(
      `another process is already serving on ${path}; stop it first or choose another --grpc-socket`,
    );
  }
  await unlink(path);
}

/** Whether something accepts connections on the unix socket `path`. */
export function answers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
