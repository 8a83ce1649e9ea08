import { hostname } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { FORBIDDEN_KEYS } from '../codec/index.ts';
import { toViolations } from '../json-schema/index.ts';
import type { LogLevel } from '../log/index.ts';
import type { PayloadValidationRule } from '../rules/index.ts';
import { BROKER_URL_PATTERN, brokerUrlProblem } from './broker-url.ts';
import { validate as generatedValidate } from './config.validator.generated.ts';
import { ConfigError } from './config-error.ts';
import { CONFIG_DEFAULTS } from './defaults.ts';
import { FLAG_OF_FIELD } from './flags.ts';
import type { Config, InventoryConfig } from './types.ts';

/** `config.schema.json`, compiled at build time (build/generate-validators.ts). */
const validateDocument = generatedValidate as unknown as ValidateFunction;

type Doc = Record<string, unknown>;

/** Options for {@linkcode buildConfig}. */
export interface BuildConfigOptions {
  /** Host name used for the default replica name. Default: `os.hostname()`. */
  readonly hostname?: string;
  /** systemd's RuntimeDirectory, where the API socket goes by default. Default: `$RUNTIME_DIRECTORY`. */
  readonly runtimeDirectory?: string;
}

/**
 * Merges, in order, the defaults, a config-file document and flag overrides (each a document in
 * the file's snake_case shape), validates the result once, and returns it in camelCase.
 * @throws {ConfigError} listing every problem: the field, the rule, and the value found.
 */
export function buildConfig(file: Doc, flags: Doc = {}, options: BuildConfigOptions = {}): Config {
  const problems: string[] = [];
  const merged = merge(
    merge(structuredClone(CONFIG_DEFAULTS) as Doc, file, '', problems),
    flags,
    '',
    problems,
  );
  const identity = (merged.identity ?? {}) as Doc;
  identity.replica ??= defaultReplica(options.hostname ?? hostname());
  merged.identity = identity;
  if (problems.length === 0 && !validateDocument(merged)) {
    for (const v of toViolations(validateDocument.errors, merged)) {
      const field = dotted(v.path);
      const flag = FLAG_OF_FIELD[field.replace(/\[\d+\]$/, '')];
      problems.push(
        `${field || '(top level)'}${flag ? ` (${flag})` : ''}: ${v.message} [${v.rule}]`,
      );
    }
  }
  // Every problem in one pass: the checks that need more than the schema run too (each looks
  // only at fields of the right type), so fixing one mistake never reveals the next.
  problems.push(...crossFieldProblems(merged));
  if (problems.length > 0) throw new ConfigError(problems);
  const c = merged as {
    identity: { replica: string; cluster: string };
    broker: Doc & { urls: string[]; reconnect: Doc };
    rules: Doc & { tenants: string[] };
    state: { dir: string };
    log: { level: LogLevel };
    api: {
      socket?: string;
      listen?: string;
      stream_stall_ms: number;
      max_connections: number;
      handshake_timeout_ms: number;
      idle_timeout_ms: number;
    };
    metrics: { listen: string; max_scrapes_per_second: number };
    validation: {
      payload_default: string;
      payload_sample_one_in: number;
      max_payload_bytes: number;
      max_payload_depth: number;
    };
    models: Array<{ id: string; version: string; ready?: boolean }>;
    inventory: Record<string, unknown> & { generic?: InventoryConfig['generic'] };
    agent_check: {
      listen?: string;
      min_weight_percent: number;
      warming_weight_percent: number;
      max_connections: number;
      leave_ms: number;
    };
    orca: { listen?: string; max_connections: number };
    check: {
      socket?: string;
      listen?: string;
      require: boolean;
      body_field: string;
      elsewhere_status: 421 | 503;
      max_body_bytes: number;
      max_connections: number;
      header_timeout_ms: number;
    };
    saturation: SaturationSection;
  };
  const apiSocket =
    c.api.socket ??
    join(options.runtimeDirectory ?? process.env.RUNTIME_DIRECTORY ?? c.state.dir, 'filament.sock');
  const reconnect = c.broker.reconnect as {
    initial_ms: number;
    max_ms: number;
    multiplier: number;
    jitter: number;
  };
  const tls = c.broker.tls as
    | { ca_file?: string; cert_file?: string; key_file?: string }
    | undefined;
  return {
    identity: { replica: c.identity.replica, cluster: c.identity.cluster },
    broker: {
      urls: c.broker.urls,
      protocol: String(c.broker.protocol) as '5' | '3.1.1',
      topicPrefix: c.broker.topic_prefix as string,
      clientId: (c.broker.client_id as string | undefined) ?? `filament-${c.identity.replica}`,
      keepaliveSeconds: c.broker.keepalive_seconds as number,
      sessionExpirySeconds: c.broker.session_expiry_seconds as number,
      connectTimeoutMs: c.broker.connect_timeout_ms as number,
      ...(c.broker.username !== undefined ? { username: c.broker.username as string } : {}),
      ...(c.broker.password_file !== undefined
        ? { passwordFile: c.broker.password_file as string }
        : {}),
      ...(tls !== undefined
        ? {
            tls: {
              ...(tls.ca_file !== undefined ? { caFile: tls.ca_file } : {}),
              ...(tls.cert_file !== undefined ? { certFile: tls.cert_file } : {}),
              ...(tls.key_file !== undefined ? { keyFile: tls.key_file } : {}),
            },
          }
        : {}),
      reconnect: {
        initialMs: reconnect.initial_ms,
        maxMs: reconnect.max_ms,
        multiplier: reconnect.multiplier,
        jitter: reconnect.jitter,
      },
    },
    rules: {
      tenants: c.rules.tenants,
      maxMessageBytes: c.rules.max_message_bytes as number,
      maxDepth: c.rules.max_depth as number,
      historySize: c.rules.history_size as number,
      maxAgeSeconds: c.rules.max_age_seconds as number,
      maxClockSkewSeconds: c.rules.max_clock_skew_seconds as number,
      trustedKeyFiles: (c.rules.trusted_keys as string[] | undefined) ?? [],
      signatureThreshold: (c.rules.signature_threshold as number | undefined) ?? 1,
    },
    state: { dir: c.state.dir },
    log: { level: c.log.level },
    api: {
      socket: apiSocket,
      listen: c.api.listen ?? null,
      streamStallMs: c.api.stream_stall_ms,
      maxConnections: c.api.max_connections,
      handshakeTimeoutMs: c.api.handshake_timeout_ms,
      idleTimeoutMs: c.api.idle_timeout_ms,
    },
    check: {
      socket:
        c.check.socket === 'off'
          ? null
          : (c.check.socket ?? join(dirname(apiSocket), 'filament-check.sock')),
      listen: c.check.listen ?? null,
      require: c.check.require,
      bodyField: c.check.body_field,
      elsewhereStatus: c.check.elsewhere_status,
      maxBodyBytes: c.check.max_body_bytes,
      maxConnections: c.check.max_connections,
      headerTimeoutMs: c.check.header_timeout_ms,
    },
    metrics: {
      listen: c.metrics.listen === 'off' ? null : c.metrics.listen,
      maxScrapesPerSecond: c.metrics.max_scrapes_per_second,
    },
    validation: {
      payloadDefault: payloadRule(c.validation.payload_default, c.validation.payload_sample_one_in),
      maxPayloadBytes: c.validation.max_payload_bytes,
      maxPayloadDepth: c.validation.max_payload_depth,
    },
    models: c.models.map((m) => ({ id: m.id, version: m.version, ready: m.ready ?? true })),
    agentCheck: {
      listen: c.agent_check.listen ?? null,
      minWeightPercent: c.agent_check.min_weight_percent,
      warmingWeightPercent: c.agent_check.warming_weight_percent,
      maxConnections: c.agent_check.max_connections,
      leaveMs: c.agent_check.leave_ms,
    },
    orca: { listen: c.orca.listen ?? null, maxConnections: c.orca.max_connections },
    inventory: inventoryConfig(c.inventory, c.saturation),
    saturation: saturationConfig(c.saturation, c.inventory.url as string | undefined),
  };
}

const SERVER_KINDS: ReadonlySet<string> = new Set(['vllm', 'sglang', 'tgi', 'triton']);

/** Resolves `auto` and the default URL (the origin of saturation.metrics_url). */
function inventoryConfig(
  i: Record<string, unknown> & { generic?: InventoryConfig['generic'] },
  s: Record<string, unknown>,
): InventoryConfig {
  const metricsUrl = s.metrics_url as string | undefined;
  let source = i.source as string;
  if (source === 'auto')
    source =
      metricsUrl !== undefined && SERVER_KINDS.has(s.preset as string)
        ? (s.preset as string)
        : 'static';
  const explicit = i.url as string | undefined;
  const url =
    explicit !== undefined
      ? explicit.replace(/\/$/, '')
      : metricsUrl !== undefined
        ? new URL(metricsUrl).origin
        : null;
  const polled = source !== 'static' && source !== 'push';
  if (polled && url === null)
    throw new ConfigError([
      `inventory.url: the ${source} inventory source needs the model server's URL (or saturation.metrics_url) [required]`,
    ]);
  if (source === 'generic' && i.generic === undefined)
    throw new ConfigError([
      'inventory.generic: the generic source needs path, list and name (JSON pointers) [required]',
    ]);
  return {
    source: source as InventoryConfig['source'],
    url: polled ? url : null,
    pollIntervalMs: i.poll_interval_ms as number,
    timeoutMs: i.timeout_ms as number,
    maxBytes: i.max_bytes as number,
    keepLastGoodMs: i.keep_last_good_ms as number,
    generic: i.generic ?? null,
  };
}

/** `[saturation]` as the merged document has it (only `generic` typed further). */
type SaturationSection = Record<string, unknown> & {
  generic?: {
    queue?: string;
    running?: string;
    kv_cache?: string;
    requests_total?: string;
    errors_total?: string;
  };
};

function saturationConfig(
  s: SaturationSection,
  inventoryUrl: string | undefined,
): Config['saturation'] {
  const n = (key: string) => s[key] as number;
  const g = s.generic ?? {};
  if (n('saturated_leave') >= n('saturated_enter')) {
    throw new ConfigError([
      `saturation.saturated_leave: must be below saturated_enter ${n('saturated_enter')} [range] (got ${n('saturated_leave')})`,
    ]);
  }
  if (s.preset === 'generic' && !g.queue && !g.running && !g.kv_cache) {
    throw new ConfigError([
      'saturation.generic: the generic preset needs at least one of queue, running, kv_cache [required]',
    ]);
  }
  return {
    metricsUrl: (s.metrics_url as string | undefined) ?? null,
    preset: s.preset as Config['saturation']['preset'],
    generic: {
      ...(g.queue ? { queue: g.queue } : {}),
      ...(g.running ? { running: g.running } : {}),
      ...(g.kv_cache ? { kvCache: g.kv_cache } : {}),
      ...(g.requests_total ? { requests: g.requests_total } : {}),
      ...(g.errors_total ? { errors: g.errors_total } : {}),
    },
    scrapeIntervalMs: n('scrape_interval_ms'),
    scrapeTimeoutMs: n('scrape_timeout_ms'),
    readinessUrl: (s.readiness_url as string | undefined) ?? null,
    readinessIntervalMs: n('readiness_interval_ms'),
    nvidiaSmi: s.nvidia_smi as string,
    nvidiaSmiIntervalMs: n('nvidia_smi_interval_ms'),
    evaluateIntervalMs: n('evaluate_interval_ms'),
    thresholds: {
      maxQueue: n('max_queue'),
      maxConcurrency: n('max_concurrency'),
      saturatedEnter: n('saturated_enter'),
      saturatedLeave: n('saturated_leave'),
      smoothing: n('smoothing'),
      warmupMs: n('warmup_ms'),
      warmupRequests: n('warmup_requests'),
      staleAfterMs: n('stale_after_ms'),
      latencyTargetMs: n('latency_target_ms'),
    },
    heartbeatMs: n('heartbeat_ms'),
    minGapMs: n('min_gap_ms'),
    scoreStep: n('score_step'),
    reportExpirySeconds: n('report_expiry_seconds'),
    canary: canaryConfig(
      s.preset as string,
      s.canary as Record<string, unknown>,
      inventoryUrl ?? (s.metrics_url ? new URL(s.metrics_url as string).origin : undefined),
    ),
  };
}

function canaryConfig(
  preset: string,
  c: Record<string, unknown>,
  serverUrl: string | undefined,
): Config['saturation']['canary'] {
  if (c.enabled !== true) return null;
  if (serverUrl === undefined)
    throw new ConfigError([
      "saturation.canary: needs the model server's URL (inventory.url or saturation.metrics_url) [required]",
    ]);
  const path = c.path as string | undefined;
  const body = c.body as string | undefined;
  if ((path === undefined) !== (body === undefined))
    throw new ConfigError([
      'saturation.canary: path and body go together (a configured request needs both) [required]',
    ]);
  if (path === undefined && (preset === 'triton' || preset === 'generic'))
    throw new ConfigError([
      `saturation.canary: the ${preset} preset has no canary of its own: set path and body [required]`,
    ]);
  if (body !== undefined)
    try {
      JSON.parse(body.replaceAll('{model}', 'm'));
    } catch (error) {
      throw new ConfigError([
        `saturation.canary.body: not JSON once {model} is filled in: ${(error as Error).message} [format]`,
      ]);
    }
  const n = (key: string) => c[key] as number;
  return {
    url: serverUrl.replace(/\/+$/, ''),
    model: (c.model as string | undefined) ?? null,
    request: path !== undefined && body !== undefined ? { path, body } : null,
    timeoutMs: n('timeout_ms'),
    retryMs: n('retry_ms'),
    idleMs: n('idle_ms'),
    unhealthyAfter: n('unhealthy_after'),
  };
}

function payloadRule(mode: string, sampleOneIn: number): PayloadValidationRule {
  return mode === 'sampled' ? { sampleOneIn } : (mode as 'off' | 'always');
}

/** Lower-cases a host name and replaces what a replica name may not contain. */
export function defaultReplica(host: string): string {
  const name = host
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return name === '' ? 'replica' : name;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function merge(base: Doc, over: Doc, path: string, problems: string[]): Doc {
  for (const [key, value] of Object.entries(over)) {
    const field = path === '' ? key : `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) {
      problems.push(`${field}: key "${key}" is not allowed [forbidden]`);
      continue;
    }
    // No setting needs a number beyond 2^53 − 1; TOML allows int64 (a BigInt here) and 1e300.
    if (typeof value === 'bigint' || (typeof value === 'number' && Math.abs(value) > MAX_SAFE)) {
      problems.push(`${field}: must be at most ${MAX_SAFE} in size (got ${value}) [range]`);
      continue;
    }
    const current = base[key];
    base[key] =
      isPlainObject(current) && isPlainObject(value)
        ? merge(current, value, field, problems)
        : value;
  }
  return base;
}

function isPlainObject(value: unknown): value is Doc {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
  );
}

/** `/broker/urls/0` → `broker.urls[0]`. */
function dotted(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce(
      (out, seg) => (/^\d+$/.test(seg) ? `${out}[${seg}]` : out === '' ? seg : `${out}.${seg}`),
      '',
    );
}

/**
 * Checks that span fields or need more than a pattern, each a sentence naming the field, the rule
 * and the value: the reconnect range, the signature threshold, TLS settings against the URLs,
 * broker URLs' host and port, absolute paths. Each looks only at fields of the right type, so it
 * can run beside the schema's own violations.
 */
function crossFieldProblems(merged: Doc): string[] {
  const problems: string[] = [];
  const section = (name: string) => (isPlainObject(merged[name]) ? (merged[name] as Doc) : {});
  const broker = section('broker');
  const rules = section('rules');
  const reconnect = isPlainObject(broker.reconnect) ? broker.reconnect : {};
  const { initial_ms: initial, max_ms: max } = reconnect;
  if (typeof initial === 'number' && typeof max === 'number' && initial > max)
    problems.push(
      `broker.reconnect.initial_ms: must not exceed max_ms ${max} [range] (got ${initial})`,
    );
  const keyFiles = Array.isArray(rules.trusted_keys) ? rules.trusted_keys : [];
  const threshold = rules.signature_threshold;
  if (typeof threshold === 'number' && threshold > Math.max(1, keyFiles.length))
    problems.push(
      `rules.signature_threshold: ${threshold} is more than the ${keyFiles.length} trusted key(s) [range]`,
    );
  const urls = Array.isArray(broker.urls)
    ? broker.urls.filter((u): u is string => typeof u === 'string')
    : [];
  urls.forEach((url, i) => {
    // A URL the schema's pattern refuses is already said to be wrong.
    const problem = BROKER_URL_PATTERN.test(url) ? brokerUrlProblem(url) : undefined;
    if (problem) problems.push(`broker.urls[${i}] (--broker): ${problem} (got "${url}") [url]`);
  });
  if (isPlainObject(broker.tls)) problems.push(...tlsProblems(broker.tls, urls));
  problems.push(
    ...absoluteProblems({ 'state.dir': section('state').dir, 'api.socket': section('api').socket }),
  );
  return problems;
}

/** Paths a long-running service keeps must not depend on the directory it was started from. */
function absoluteProblems(paths: Record<string, unknown>): string[] {
  return Object.entries(paths)
    .filter(([, path]) => typeof path === 'string' && !isAbsolute(path))
    .map(([field, path]) => {
      const flag = FLAG_OF_FIELD[field];
      return `${field}${flag ? ` (${flag})` : ''}: must be an absolute path (got "${path}", which would depend on the working directory) [absolute]`;
    });
}

/**
 * `broker.tls` only means something with a TLS URL, and a client certificate needs its key: say
 * so at start-up instead of connecting in plain text or failing the handshake later.
 */
function tlsProblems(tls: Doc, urls: readonly string[]): string[] {
  const problems: string[] = [];
  const plain = urls.filter((url) => !/^(mqtts|ssl|wss):\/\//.test(url));
  if (plain.length > 0)
    problems.push(
      `broker.tls: set, but these broker URLs do not use TLS (mqtts://): ${plain.join(', ')}`,
    );
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined))
    problems.push(
      `broker.tls: cert_file and key_file go together (got only ${tls.cert_file === undefined ? 'key_file' : 'cert_file'})`,
    );
  return problems;
}
