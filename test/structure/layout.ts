/**
 * The intended structure of `src/`: each folder's job and the folders it may import (types
 * included). `docs/code-layout.md` is the same map for people; `structure.test.ts` holds the code
 * to it. Adding a folder means adding it here, with its job.
 */
export const LAYOUT: Readonly<Record<string, { job: string; mayImport: readonly string[] }>> = {
  clock: { job: 'time as an injectable dependency', mayImport: [] },
  log: { job: 'structured JSON logs', mayImport: [] },
  codec: { job: 'safe decoding of untrusted JSON and MessagePack', mayImport: [] },
  trust: { job: 'signing keys, DSSE envelopes, the trust root', mayImport: [] },
  runtime: {
    job: 'the only place that touches Bun.* and Deno.* (sd_notify, platform, garbage collection)',
    mayImport: [],
  },
  exposition: {
    job: 'reading metrics exposition text (Prometheus text 0.0.4, OpenMetrics 1.0)',
    mayImport: [],
  },
  'http-client': {
    job: 'HTTP requests to the model server, bounded in time and size',
    mayImport: [],
  },
  'local-broker': { job: 'brokers filament starts itself (demo, tests)', mayImport: [] },
  'schema-compiler': { job: 'the Ajv factory and the tensor keyword', mayImport: [] },
  'json-schema': {
    job: 'schema violations in filament words; the payload-schema dialect check',
    mayImport: ['codec'],
  },
  report: { job: 'the SaturationReport wire contract', mayImport: ['codec', 'json-schema'] },
  rules: {
    job: 'RuleSet contract, apply pipeline, versioned store',
    mayImport: ['codec', 'json-schema', 'schema-compiler', 'trust'],
  },
  inventory: {
    job: 'what the model server has loaded: its answers parsed, rule models judged against them',
    mayImport: ['codec', 'rules'],
  },
  'inventory-sources': {
    job: 'asking the model server what it has loaded, polled into a LiveInventory',
    mayImport: ['clock', 'http-client', 'inventory', 'log'],
  },
  validation: { job: 'the request validation engine', mayImport: ['codec', 'inventory', 'rules'] },
  'request-carrier': {
    job: 'the ObjectiveConfig carried on an HTTP request: the header and body contract',
    mayImport: ['codec', 'validation'],
  },
  'request-check': {
    job: 'the per-request check proxies ask for: carrier judged, answer allow / elsewhere / refuse',
    mayImport: ['codec', 'request-carrier', 'validation'],
  },
  mqtt: { job: 'the broker connection, the in-memory broker, topics', mayImport: ['clock', 'log'] },
  'last-known-good': { job: 'rule sets and version floors on disk', mayImport: ['clock'] },
  saturation: {
    job: 'collectors, score, replica state, publish policy, monitor',
    mayImport: ['clock', 'exposition', 'http-client', 'inventory', 'log', 'report', 'validation'],
  },
  config: {
    job: 'defaults, TOML, flags, validation of the config',
    mayImport: ['codec', 'json-schema', 'log', 'rules', 'saturation'],
  },
  credentials: { job: 'secrets and keys read from files', mayImport: ['config', 'trust'] },
  'rule-stream': {
    job: 'restore, apply, persist, ACK/NACK',
    mayImport: ['clock', 'codec', 'last-known-good', 'log', 'mqtt', 'rules', 'trust'],
  },
  metrics: { job: "filament's own /metrics", mayImport: ['report'] },
  api: {
    job: 'the local gRPC server and its status client',
    mayImport: [
      'inventory',
      'log',
      'mqtt',
      'orca',
      'report',
      'request-check',
      'rule-stream',
      'rules',
      'runtime',
      'saturation',
      'validation',
    ],
  },
  orca: {
    job: "this replica's load in ORCA's forms: OrcaLoadReport fields, the endpoint-load-metrics header",
    mayImport: ['report'],
  },
  'haproxy-agent': {
    job: "HAProxy's agent-check answered from this replica's saturation",
    mayImport: ['report'],
  },
  resolver: {
    job: 'the resolver library: replica table, picking, the request header it writes',
    mayImport: ['clock', 'log', 'mqtt', 'report', 'request-carrier'],
  },
  'terminal-tables': { job: 'text tables and the fleet view', mayImport: ['resolver'] },
  sidecar: {
    job: 'the composition root and its faces',
    mayImport: [
      'api',
      'clock',
      'config',
      'credentials',
      'haproxy-agent',
      'inventory',
      'inventory-sources',
      'last-known-good',
      'log',
      'metrics',
      'mqtt',
      'report',
      'request-check',
      'rule-stream',
      'rules',
      'saturation',
      'trust',
      'validation',
    ],
  },
  demo: {
    job: 'the zero-install demo',
    mayImport: [
      'config',
      'local-broker',
      'log',
      'mqtt',
      'report',
      'resolver',
      'rule-stream',
      'sidecar',
      'terminal-tables',
      'validation',
    ],
  },
  cli: {
    job: 'the command line',
    mayImport: [
      'api',
      'codec',
      'config',
      'credentials',
      'demo',
      'log',
      'mqtt',
      'report',
      'resolver',
      'rule-stream',
      'rules',
      'runtime',
      'sidecar',
      'terminal-tables',
      'trust',
    ],
  },
  'main.ts': { job: 'the entry point', mayImport: ['cli'] },
};

/** Folders whose code must stay pure: no I/O module, directly or through what they import. */
export const PURE = [
  'codec',
  'request-carrier',
  'request-check',
  'exposition',
  'inventory',
  'json-schema',
  'orca',
  'report',
  'rules',
  'validation',
] as const;

/** Of the pure folders, those that must not load the Ajv compiler either. */
export const NO_AJV_COMPILER = [
  'codec',
  'exposition',
  'inventory',
  'json-schema',
  'orca',
  'report',
  'request-carrier',
  'request-check',
  'validation',
] as const;

/** Modules that do I/O (files, sockets, processes, brokers, gRPC) or are runtime-specific. */
export const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'child_process',
  'worker_threads',
  'mqtt',
  '@grpc/grpc-js',
  'bun',
  'bun:ffi',
  'bun:sqlite',
] as const;

/** The Ajv compiler itself (its small runtime helpers, used by generated validators, are fine). */
export const AJV_COMPILER = ['ajv', 'ajv-formats'] as const;
