/** Log levels in increasing severity. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Extra structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A structured logger: every call writes one JSON object on one line. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Returns a logger that adds `subsystem` to every line. */
  child(subsystem: string): Logger;
  /** Changes the minimum level of this logger and all its children. */
  setLevel(level: LogLevel): void;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Minimum level written. Default `info`. */
  level?: LogLevel;
  /** Where lines go. Default: standard error. */
  write?: (line: string) => void;
  /** Source of the `time` field. Default `Date.now`. */
  now?: () => number;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Creates a JSON-lines logger. Lines look like
 * `{"time":"…","level":"info","subsystem":"rules","msg":"applied","tenant":"acme"}`.
 * Errors in fields are reduced to their message (and `cause` message) so lines stay one line.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const shared = {
    min: rank[options.level ?? 'info'],
    write: options.write ?? ((line: string) => process.stderr.write(`${line}\n`)),
    now: options.now ?? Date.now,
  };
  const make = (subsystem: string | undefined): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (rank[level] < shared.min) return;
      const line: LogFields = { time: new Date(shared.now()).toISOString(), level };
      if (subsystem !== undefined) line.subsystem = subsystem;
      line.msg = msg;
      if (fields) for (const [k, v] of Object.entries(fields)) line[k] = plain(v);
      shared.write(JSON.stringify(line));
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (name) => make(subsystem === undefined ? name : `${subsystem}.${name}`),
      setLevel: (level) => {
        shared.min = rank[level];
      },
    };
  };
  return make(undefined);
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const cause = value.cause instanceof Error ? `: ${value.cause.message}` : '';
    return `${value.message}${cause}`;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A logger that drops everything; for tests and library use without logging. */
export const silentLogger: Logger = createLogger({ write: () => {} });
