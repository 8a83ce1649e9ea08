/**
 * Structured JSON-lines logging.
 * @module
 */
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  silentLogger,
} from './logger.ts';
export { routeRuntimeWarnings } from './runtime-warnings.ts';
