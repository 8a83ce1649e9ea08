/**
 * Secrets and keys read from files at start-up, never from the command line: the broker password
 * and TLS material (for `filament run` from its config, for the CLI tools from their flags) and the
 * trusted rule-signing keys. Every unreadable or unusable file is an error naming the field and path.
 * @module
 */
export { type BrokerSecretFiles, type BrokerSecrets, readBrokerSecrets } from './broker-secrets.ts';
export { loadTrustRoot, readBrokerFiles } from './config-credentials.ts';
