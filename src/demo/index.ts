/**
 * The zero-install demo behind the README's first command.
 * @module
 */
export { AckWatcher } from './ack-watcher.ts';
export {
  type ModelServerStandIn,
  type StandInModel,
  startModelServerStandIn,
  vllmMetrics,
} from './model-server-stand-in.ts';
export { runDemo } from './run-demo.ts';
