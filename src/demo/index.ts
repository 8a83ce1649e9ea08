/**
 * The zero-install demo behind the README's first command.
 * @module
 */
export { AckWatcher } from './ack-watcher.ts';
export { runDemo } from './run-demo.ts';
