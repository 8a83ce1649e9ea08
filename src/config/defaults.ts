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
  rules: { max_message_bytes: 8 * 1024 * 1024, max_depth: 32, history_size: 4 },
  state: { dir: '/var/lib/filament' },
  log: { level: 'info' },
  api: {},
  validation: {
    payload_default: 'off',
    payload_sample_one_in: 100,
    max_payload_bytes: 16 * 1024 * 1024,
    max_payload_depth: 64,
  },
  models: [],
});

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value))
    if (child && typeof child === 'object') deepFreeze(child);
  return Object.freeze(value);
}
