/**
 * Brokers filament starts for itself: a private mosquitto for the demo and the tests, or an
 * in-process aedes when mosquitto is not installed. Production sidecars never start a broker.
 * @module
 */
export { type InProcessBroker, startInProcessBroker } from './aedes-broker.ts';
export { freePort, waitForPort } from './free-port.ts';
export {
  findMosquitto,
  type MosquittoBroker,
  type MosquittoOptions,
  startMosquitto,
} from './mosquitto.ts';
export {
  type ServerProcess,
  type ServerSignal,
  type ServerSpec,
  serverProcess,
} from './server-process.ts';
