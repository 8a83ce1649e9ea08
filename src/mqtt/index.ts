/**
 * The broker connection: a persistent-session mqtt.js client with backoff, failover and a
 * bounded offline outbox, seen by the rest of filament only through {@linkcode MessageBus}; an
 * in-memory broker behind the same interface for unit tests; topic names.
 * @module
 */
export { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './backoff.ts';
export {
  InMemoryBroker,
  InMemoryConnection,
  type InMemoryConnectOptions,
  type PublishedMessage,
} from './in-memory-broker.ts';
export type {
  BrokerConnection,
  ConnectionState,
  ConnectionStatus,
  InboundMessage,
  MessageBus,
  MessageHandler,
  RetainedPublishOptions,
} from './message-bus.ts';
export { MqttConnection, type MqttConnectionOptions, type WillMessage } from './mqtt-connection.ts';
export { PublishError, type PublishOnceOptions, publishOnce } from './publish-once.ts';
export {
  ackTopic,
  DEFAULT_TOPIC_PREFIX,
  replicaTopic,
  rulesFullTopic,
  rulesTopic,
  tenantOfRulesTopic,
  topicMatches,
} from './topics.ts';
