/**
 * systemd's notification protocol (sd_notify): datagrams such as `READY=1` sent to the unix
 * socket named by `$NOTIFY_SOCKET`. Neither Bun nor Node can open unix datagram sockets, so on
 * Bun this calls libc's socket/sendto through bun:ffi (measured to work, abstract `@` sockets
 * too). Elsewhere, or without `$NOTIFY_SOCKET`, it is a no-op.
 */
export interface Notifier {
  /** Whether notifications go anywhere. */
  readonly active: boolean;
  /** Sends one notification (`READY=1`, `WATCHDOG=1`, `STATUS=…`, several joined by `\n`); false if it failed. */
  send(state: string): boolean;
  /**
   * Sends RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, which systemd ≥ 253 needs to match
   * the message to `systemctl reload` under Type=notify-reload). Send READY=1 when done.
   */
  reloading(): boolean;
  close(): void;
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const CLOCK_MONOTONIC = 1;

const inactive: Notifier = {
  active: false,
  send: () => false,
  reloading: () => false,
  close: () => {},
};

/** Creates the notifier for `$NOTIFY_SOCKET` (from `env`, default `process.env`). */
export async function createNotifier(
  env: Record<string, string | undefined> = process.env,
): Promise<Notifier> {
  const target = env.NOTIFY_SOCKET;
  if (!target || !(globalThis as { Bun?: unknown }).Bun) return inactive;
  const ffi = await import('bun:ffi');
  const libc = ffi.dlopen('libc.so.6', {
    socket: { args: ['i32', 'i32', 'i32'], returns: 'i32' },
    sendto: { args: ['i32', 'ptr', 'u64', 'i32', 'ptr', 'u32'], returns: 'i64' },
    close: { args: ['i32'], returns: 'i32' },
    clock_gettime: { args: ['i32', 'ptr'], returns: 'i32' },
  });
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    libc.close();
    return inactive;
  }
  // struct sockaddr_un: sa_family_t (u16) then the path; an abstract name starts with a NUL byte.
  const path = new TextEncoder().encode(target.startsWith('@') ? `\0${target.slice(1)}` : target);
  const address = new Uint8Array(2 + Math.min(path.length, 107) + (target.startsWith('@') ? 0 : 1));
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(path.subarray(0, 107), 2);
  let open = true;
  // struct timespec on 64-bit Linux: two 64-bit fields, seconds then nanoseconds.
  const timespec = new BigInt64Array(2);
  const monotonicMicros = (): bigint => {
    libc.symbols.clock_gettime(CLOCK_MONOTONIC, ffi.ptr(timespec));
    return (timespec[0] ?? 0n) * 1_000_000n + (timespec[1] ?? 0n) / 1000n;
  };
  const send = (state: string): boolean => {
    if (!open) return false;
    const message = new TextEncoder().encode(state);
    const sent = libc.symbols.sendto(
      fd,
      ffi.ptr(message),
      message.length,
      MSG_NOSIGNAL,
      ffi.ptr(address),
      address.length,
    );
    return Number(sent) === message.length;
  };
  return {
    active: true,
    send,
    reloading: () => send(`RELOADING=1\nMONOTONIC_USEC=${monotonicMicros()}`),
    close(): void {
      if (!open) return;
      open = false;
      libc.symbols.close(fd);
      libc.close();
    },
  };
}

/** The watchdog interval systemd asked for (`$WATCHDOG_USEC`, for this process), in ms, or null. */
export function watchdogIntervalMs(
  env: Record<string, string | undefined> = process.env,
  pid = process.pid,
): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}
