import type { LogLevel } from '../log/index.ts';
import type { PayloadValidationRule } from '../rules/index.ts';
import type { Thresholds } from '../saturation/index.ts';

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
    /** Files for TLS to mqtts:// URLs (absent: the system CAs, no client certificate). */
    readonly tls?: {
      readonly caFile?: string;
      readonly certFile?: string;
      readonly keyFile?: string;
    };
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
    /** Rules issued longer ago make the replica STALE_RULES; 0 disables. */
    readonly maxAgeSeconds: number;
    /** Rule sets issued further ahead of this host's clock are refused (ISSUED_IN_FUTURE). */
    readonly maxClockSkewSeconds: number;
    /** PEM files of the trusted signing keys; empty: rule sets are not signature-checked. */
    readonly trustedKeyFiles: readonly string[];
    readonly signatureThreshold: number;
  };
  readonly state: { readonly dir: string };
  readonly log: { readonly level: LogLevel };
  /** The Prometheus endpoint; `listen` null when off. */
  readonly metrics: {
    readonly listen: string | null;
    /** Scrapes answered per second at most; 0 = unpaced. */
    readonly maxScrapesPerSecond: number;
  };
  /** The local gRPC API. */
  readonly api: {
    readonly socket: string;
    readonly listen: string | null;
    /** A streaming client that leaves responses unread this long is reset, ms. */
    readonly streamStallMs: number;
    /** Per listener: connections open at once, preface deadline, idle close (ms). */
    readonly maxConnections: number;
    readonly handshakeTimeoutMs: number;
    readonly idleTimeoutMs: number;
  };
  /** The HTTP check endpoint (docs/request-path.md). */
  readonly check: {
    /** Unix socket, or `null` for none. */
    readonly socket: string | null;
    readonly listen: string | null;
    readonly require: boolean;
    readonly bodyField: string;
    readonly elsewhereStatus: 421 | 503;
    readonly maxBodyBytes: number;
    readonly maxConnections: number;
    readonly headerTimeoutMs: number;
  };
  readonly validation: {
    readonly payloadDefault: PayloadValidationRule;
    readonly maxPayloadBytes: number;
    readonly maxPayloadDepth: number;
  };
  /** Models loaded on this host, with their readiness. */
  readonly models: ReadonlyArray<{
    readonly id: string;
    readonly version: string;
    readonly ready: boolean;
  }>;
  /** HAProxy agent-check (off while `listen` is null). */
  readonly agentCheck: {
    readonly listen: string | null;
    readonly minWeightPercent: number;
    readonly warmingWeightPercent: number;
    readonly maxConnections: number;
    /** On stop: `drain`, then `down`, each for half of this, before the port closes. */
    readonly leaveMs: number;
  };
  /** The network port serving only ORCA load reports (off while `listen` is null). */
  readonly orca: {
    readonly listen: string | null;
    readonly maxConnections: number;
  };
  /** Where filament learns what the model server has loaded (docs/validation.md). */
  readonly inventory: InventoryConfig;
  /** Saturation measurement and reports (README "Saturation"). */
  readonly saturation: {
    readonly metricsUrl: string | null;
    readonly preset: 'vllm' | 'sglang' | 'tgi' | 'triton' | 'generic';
    readonly generic: {
      readonly queue?: string;
      readonly running?: string;
      readonly kvCache?: string;
      /** A counter of requests finished. */
      readonly requests?: string;
      /** A counter of requests failed through the server's fault. */
      readonly errors?: string;
    };
    readonly scrapeIntervalMs: number;
    readonly scrapeTimeoutMs: number;
    readonly readinessUrl: string | null;
    readonly readinessIntervalMs: number;
    /** nvidia-smi binary, `auto` to use it when installed, `off` for none. */
    readonly nvidiaSmi: string;
    readonly nvidiaSmiIntervalMs: number;
    readonly evaluateIntervalMs: number;
    readonly thresholds: Thresholds;
    readonly heartbeatMs: number;
    readonly minGapMs: number;
    readonly scoreStep: number;
    readonly reportExpirySeconds: number;
    /** The canary check (null: off). */
    readonly canary: {
      /** The model server's base URL the canary goes to. */
      readonly url: string;
      /** The model to name; null: the first base model the server has loaded. */
      readonly model: string | null;
      /** A configured request (path and JSON body with `{model}`), or null: the preset's. */
      readonly request: { readonly path: string; readonly body: string } | null;
      readonly timeoutMs: number;
      readonly retryMs: number;
      readonly idleMs: number;
      readonly unhealthyAfter: number;
    } | null;
  };
}

/** A model server kind filament can ask what it has loaded. */
export type InventoryServerKind = 'vllm' | 'sglang' | 'tgi' | 'triton' | 'generic';

/** The `[inventory]` section, with `auto` resolved. */
export interface InventoryConfig {
  /** `static`: the `[[models]]` list; `push`: declared over the local API; else the server kind polled. */
  readonly source: 'static' | 'push' | InventoryServerKind;
  /** The model server's base URL (no trailing slash), for polled sources. */
  readonly url: string | null;
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly keepLastGoodMs: number;
  /** Where the models are in a generic server's answer. */
  readonly generic: {
    readonly path: string;
    readonly list: string;
    readonly name: string;
    readonly revision?: string;
    readonly parent?: string;
  } | null;
}
