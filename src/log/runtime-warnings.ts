import type { Logger } from './logger.ts';

/**
 * Sends the runtime's process warnings (a library calling the deprecated `url.parse()`, say:
 * mqtt.js does) to `log` as one JSON line each — the first time each code is seen, at `warn` —
 * instead of the runtime's own `(node:PID) [DEP0169] …` text, so stderr stays one JSON object per
 * line. Returns a function that puts nothing back (the default printer is gone) but stops
 * logging.
 */
export function routeRuntimeWarnings(log: Logger): () => void {
  const seen = new Set<string>();
  const onWarning = (warning: Error & { code?: string }) => {
    const key = warning.code ?? `${warning.name}: ${warning.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    log.warn('runtime warning', {
      kind: warning.name,
      ...(warning.code !== undefined ? { code: warning.code } : {}),
      warning: warning.message,
    });
  };
  process.removeAllListeners('warning');
  process.on('warning', onWarning);
  return () => process.off('warning', onWarning);
}
