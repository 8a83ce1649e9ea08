import type { LogLevel } from '../log/index.ts';

/** filament's validated configuration (the TOML file's snake_case keys, in camelCase). */
export interface Config {
  readonly identity: { readonly replica: string; readonly cluster: string };
  readonly broker: {
    readonly urls: readonly string[];
    readonly protocol: '5' | '3.1.1';
    readonly topicPrefix: string;
    readonly clientId: string;
    readonly keepaliveSeconds: number;
    readonly sessionExpirySeconds: number;
    readonly connectTimeoutMs: number;
    readonly username?: string;
    readonly passwordFile?: string;
    readonly reconnect: {
      readonly initialMs: number;
      readonly maxMs: number;
      readonly multiplier: number;
      readonly jitter: number;
    };
  };
  readonly rules: {
    readonly tenants: readonly string[];
    readonly maxMessageBytes: number;
    readonly maxDepth: number;
    readonly historySize: number;
  };
  readonly state: { readonly dir: string };
  readonly log: { readonly level: LogLevel };
}
