/**
 * Asking the model server on this host what it has loaded: one request per server kind (vLLM,
 * SGLang, TGI, Triton, any JSON), polled into a `LiveInventory` with time-outs, a size cap and a
 * bounded trust in the last good answer.
 * @module
 */
export { askKserveReady, MAX_READY_PROBES, type WantedModel } from './ask-kserve-ready.ts';
export { askServer, describeEndpoint, type ServerEndpoint } from './ask-server.ts';
export {
  type InventoryChange,
  InventoryPoller,
  type InventoryPollerOptions,
} from './inventory-poller.ts';
