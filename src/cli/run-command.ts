import {
  buildConfig,
  type Config,
  ConfigError,
  flagsToDocument,
  loadConfigFile,
} from '../config/index.ts';
import { createLogger, type Logger, routeRuntimeWarnings } from '../log/index.ts';
import { createNotifier, type Notifier, watchdogIntervalMs } from '../runtime/index.ts';
import { Sidecar } from '../sidecar/index.ts';
import { type CliIo, EXIT } from './cli-io.ts';
import { BROKER_FLAGS, parseFlags } from './parse-flags.ts';

const RUN_FLAGS = {
  ...BROKER_FLAGS,
  config: { type: 'string' },
  tenant: { type: 'string', multiple: true },
  replica: { type: 'string' },
  cluster: { type: 'string' },
  'state-dir': { type: 'string' },
  'client-id': { type: 'string' },
  'log-level': { type: 'string' },
  'grpc-socket': { type: 'string' },
  'grpc-listen': { type: 'string' },
  'metrics-listen': { type: 'string' },
} as const;

/**
 * `filament run`: builds the config from the file and flags, starts the sidecar and runs until
 * SIGTERM or SIGINT, then stops cleanly. A second signal exits at once. SIGHUP re-reads the
 * config file (flags still win) and applies what can change live. Under systemd
 * (`Type=notify`) it reports READY=1 once started, pings the watchdog at half of `WatchdogSec`,
 * and reports STOPPING=1 on the way out.
 */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, RUN_FLAGS, 'run');
  if (positionals.length > 0)
    io.err(`run: ignoring unexpected arguments: ${positionals.join(' ')}`);
  // Handlers first: a SIGTERM or SIGHUP that arrives while starting must not kill the process
  // with the default action (no DRAINING/OFFLINE, no clean disconnect).
  const signals = watchSignals();
  try {
    return await serve(values, io, signals);
  } finally {
    signals.dispose();
  }
}

/** Starts the sidecar and runs it until a stop signal; returns the exit code. */
async function serve(values: RunFlagValues, io: CliIo, signals: RunSignals): Promise<number> {
  let sidecar: Sidecar;
  let logger: Logger;
  try {
    const config = await loadRunConfig(values);
    logger = createLogger({ level: config.log.level });
    routeRuntimeWarnings(logger);
    sidecar = new Sidecar(config, { logger });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT.failed;
  }
  try {
    await sidecar.start();
  } catch (error) {
    io.err(
      error instanceof ConfigError
        ? error.message
        : `filament run: cannot start: ${(error as Error).message}`,
    );
    await sidecar.stop();
    return EXIT.failed;
  }
  const notifier = await createNotifier();
  const stopWatchdog = startSystemdWatchdog(notifier);
  const ready = () =>
    notifier.send(`READY=1\nSTATUS=following ${sidecar.config.rules.tenants.length} tenant(s)`);
  ready();
  signals.onReload(async () => {
    notifier.reloading();
    await reloadConfig(sidecar, values, logger.child('config'));
    ready();
  });
  await signals.stopRequested;
  notifier.send('STOPPING=1');
  stopWatchdog();
  await sidecar.stop();
  notifier.close();
  return EXIT.ok;
}

type RunFlagValues = ReturnType<typeof parseFlags<typeof RUN_FLAGS>>['values'];

/** The config file (when given) with the command-line flags over it, validated. */
async function loadRunConfig(values: RunFlagValues): Promise<Config> {
  const file = values.config === undefined ? {} : await loadConfigFile(values.config);
  const flags = flagsToDocument({
    broker: values.broker,
    tenant: values.tenant,
    replica: values.replica,
    cluster: values.cluster,
    stateDir: values['state-dir'],
    protocol: values.protocol,
    topicPrefix: values['topic-prefix'],
    clientId: values['client-id'],
    logLevel: values['log-level'],
    grpcSocket: values['grpc-socket'],
    grpcListen: values['grpc-listen'],
    metricsListen: values['metrics-listen'],
  });
  return buildConfig(file, flags);
}

/**
 * Re-reads the config for SIGHUP. A file that no longer parses or validates is refused with its
 * reasons and the running config stays as it was.
 */
async function reloadConfig(sidecar: Sidecar, values: RunFlagValues, log: Logger): Promise<void> {
  let next: Config;
  try {
    next = await loadRunConfig(values);
  } catch (error) {
    log.error('config reload refused; keeping the running config', { error });
    return;
  }
  const { applied, needsRestart } = await sidecar.reload(next);
  log.info('config reloaded', { applied, needsRestart });
  if (needsRestart.length > 0)
    log.warn('config changes need a restart to take effect', { fields: needsRestart });
}

/** Pings systemd's watchdog at half the interval it asked for; returns the function that stops. */
function startSystemdWatchdog(notifier: Notifier): () => void {
  const intervalMs = watchdogIntervalMs();
  if (!notifier.active || intervalMs === null) return () => {};
  const timer = setInterval(() => notifier.send('WATCHDOG=1'), Math.max(1, intervalMs / 2));
  timer.unref?.();
  return () => clearInterval(timer);
}

/** SIGTERM/SIGINT and SIGHUP as seen by `filament run`, from the moment it starts. */
interface RunSignals {
  /** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
  readonly stopRequested: Promise<void>;
  /**
   * Runs `reload` on each SIGHUP from now on, one at a time, and once right away if a SIGHUP came
   * before (during start-up).
   */
  onReload(reload: () => Promise<void>): void;
  /** Removes the handlers (signals get their default actions again). */
  dispose(): void;
}

function watchSignals(): RunSignals {
  let stop = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let stopping = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`second ${signal}: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    stop();
  };
  let reload: (() => Promise<void>) | null = null;
  let hupBeforeReady = false;
  let running = Promise.resolve();
  const onHup = () => {
    if (reload === null) hupBeforeReady = true;
    else running = running.then(reload);
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  return {
    stopRequested,
    onReload(fn) {
      reload = fn;
      if (hupBeforeReady) running = running.then(fn);
    },
    dispose() {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
    },
  };
}
