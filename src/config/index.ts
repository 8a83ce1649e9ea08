/**
 * Configuration: a TOML file plus command-line flags, merged over frozen defaults and validated
 * once at start-up (`config.schema.json`); unknown keys are errors.
 * @module
 */

export { BROKER_URL_PATTERN, brokerUrlProblem } from './broker-url.ts';
export { type BuildConfigOptions, buildConfig, defaultReplica } from './build-config.ts';
export { configDifferences } from './config-diff.ts';
export { ConfigError } from './config-error.ts';
export { CONFIG_DEFAULTS } from './defaults.ts';
export { type ConfigFlags, FLAG_OF_FIELD, flagsToDocument } from './flags.ts';
export { loadConfigFile, parseConfigText } from './load-config.ts';
export type { Config, InventoryConfig, InventoryServerKind } from './types.ts';
