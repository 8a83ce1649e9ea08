/**
 * Defaults for every optional setting, in the config file's own (snake_case) shape. Input is
 * merged over these and then validated once. Documented in README ("Configuration").
 */
export const CONFIG_DEFAULTS = deepFreeze({
  broker: {
    protocol: '5',
    topic_prefix: 'filament/v1',
    keepalive_seconds: 30,
    session_expiry_seconds: 3600,
    connect_timeout_ms: 5000,
    reconnect: { initial_ms: 200, max_ms: 30_000, multiplier: 2, jitter: 0.5 },
  },
  rules: {
    max_message_bytes: 8 * 1024 * 1024,
    max_depth: 32,
    history_size: 4,
    max_age_seconds: 0,
    max_clock_skew_seconds: 300,
  },
  state: { dir: '/var/lib/filament' },
  log: { level: 'info' },
  api: {
    stream_stall_ms: 10_000,
    max_connections: 256,
    handshake_timeout_ms: 5_000,
    idle_timeout_ms: 300_000,
  },
  metrics: { listen: '127.0.0.1:9464', max_scrapes_per_second: 5 },
  validation: {
    payload_default: 'off',
    payload_sample_one_in: 100,
    max_payload_bytes: 16 * 1024 * 1024,
    max_payload_depth: 64,
  },
  models: [],
  agent_check: {
    min_weight_percent: 10,
    warming_weight_percent: 50,
    max_connections: 64,
    leave_ms: 4_000,
  },
  check: {
    require: true,
    body_field: 'filament',
    elsewhere_status: 421,
    max_body_bytes: 4 * 1024 * 1024,
    max_connections: 1024,
    header_timeout_ms: 5_000,
  },
  orca: {
    max_connections: 256,
  },
  inventory: {
    source: 'auto',
    poll_interval_ms: 2_000,
    timeout_ms: 1_000,
    max_bytes: 4 * 1024 * 1024,
    keep_last_good_ms: 10_000,
  },
  saturation: {
    preset: 'vllm',
    scrape_interval_ms: 100,
    scrape_timeout_ms: 1000,
    readiness_interval_ms: 1000,
    nvidia_smi: 'auto',
    nvidia_smi_interval_ms: 1000,
    evaluate_interval_ms: 100,
    max_queue: 16,
    max_concurrency: 64,
    saturated_enter: 0.85,
    saturated_leave: 0.7,
    smoothing: 0.5,
    warmup_ms: 30_000,
    warmup_requests: 0,
    stale_after_ms: 2_000,
    latency_target_ms: 0,
    heartbeat_ms: 5_000,
    min_gap_ms: 50,
    score_step: 0.1,
    report_expiry_seconds: 30,
    canary: {
      enabled: false,
      timeout_ms: 30_000,
      retry_ms: 2_000,
      idle_ms: 300_000,
      unhealthy_after: 5,
    },
  },
});

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value))
    if (child && typeof child === 'object') deepFreeze(child);
  return Object.freeze(value);
}
