import { describe, expect, test } from 'bun:test';
import {
  buildConfig,
  defaultReplica,
  flagsToDocument,
  parseConfigText,
} from '../../src/config/index.ts';
import { MINIMAL_CONFIG, problemsOf } from '../helpers/config-fixture.ts';

const minimal = MINIMAL_CONFIG;

describe('buildConfig', () => {
  test('fills every default and derives replica and client id', () => {
    const config = buildConfig(
      minimal,
      {},
      { hostname: 'GPU Host.17', runtimeDirectory: '/run/filament' },
    );
    expect(config).toEqual({
      identity: { replica: 'gpu-host.17', cluster: 'gpu-east' },
      broker: {
        urls: ['mqtt://127.0.0.1:1883'],
        protocol: '5',
        topicPrefix: 'filament/v1',
        clientId: 'filament-gpu-host.17',
        keepaliveSeconds: 30,
        sessionExpirySeconds: 3600,
        connectTimeoutMs: 5000,
        reconnect: { initialMs: 200, maxMs: 30000, multiplier: 2, jitter: 0.5 },
      },
      rules: {
        tenants: ['acme'],
        maxMessageBytes: 8388608,
        maxDepth: 32,
        historySize: 4,
        maxAgeSeconds: 0,
        maxClockSkewSeconds: 300,
        trustedKeyFiles: [],
        signatureThreshold: 1,
      },
      state: { dir: '/var/lib/filament' },
      log: { level: 'info' },
      api: {
        socket: '/run/filament/filament.sock',
        listen: null,
        streamStallMs: 10_000,
        maxConnections: 256,
        handshakeTimeoutMs: 5_000,
        idleTimeoutMs: 300_000,
      },
      check: {
        socket: '/run/filament/filament-check.sock',
        listen: null,
        require: true,
        bodyField: 'filament',
        elsewhereStatus: 421,
        maxBodyBytes: 4 * 1024 * 1024,
        maxConnections: 1024,
        headerTimeoutMs: 5_000,
      },
      metrics: { listen: '127.0.0.1:9464', maxScrapesPerSecond: 5 },
      validation: { payloadDefault: 'off', maxPayloadBytes: 16777216, maxPayloadDepth: 64 },
      models: [],
      agentCheck: {
        listen: null,
        minWeightPercent: 10,
        warmingWeightPercent: 50,
        maxConnections: 64,
        leaveMs: 4000,
      },
      orca: { listen: null, maxConnections: 256 },
      inventory: {
        source: 'static',
        url: null,
        pollIntervalMs: 2000,
        timeoutMs: 1000,
        maxBytes: 4194304,
        keepLastGoodMs: 10000,
        generic: null,
      },
      saturation: {
        metricsUrl: null,
        preset: 'vllm',
        generic: {},
        scrapeIntervalMs: 100,
        scrapeTimeoutMs: 1000,
        readinessUrl: null,
        readinessIntervalMs: 1000,
        nvidiaSmi: 'auto',
        nvidiaSmiIntervalMs: 1000,
        evaluateIntervalMs: 100,
        thresholds: {
          maxQueue: 16,
          maxConcurrency: 64,
          saturatedEnter: 0.85,
          saturatedLeave: 0.7,
          smoothing: 0.5,
          warmupMs: 30000,
          warmupRequests: 0,
          staleAfterMs: 2000,
          latencyTargetMs: 0,
        },
        heartbeatMs: 5000,
        minGapMs: 50,
        scoreStep: 0.1,
        reportExpirySeconds: 30,
        canary: null,
      },
    });
  });

  test('the inventory follows the saturation preset and its server unless told otherwise', () => {
    const withServer = (inventory: Record<string, unknown> = {}, preset = 'vllm') =>
      buildConfig({
        ...minimal,
        inventory,
        saturation: {
          metrics_url: 'http://127.0.0.1:8000/metrics',
          preset,
          ...(preset === 'generic' ? { generic: { queue: 'q' } } : {}),
        },
      }).inventory;
    expect(withServer()).toMatchObject({ source: 'vllm', url: 'http://127.0.0.1:8000' });
    expect(withServer({}, 'tgi')).toMatchObject({ source: 'tgi', url: 'http://127.0.0.1:8000' });
    expect(withServer({ source: 'static' })).toMatchObject({ source: 'static', url: null });
    expect(withServer({ url: 'http://10.0.0.2:9000/' })).toMatchObject({
      url: 'http://10.0.0.2:9000',
    });
    // A generic metrics preset says nothing about which inventory API the server has.
    expect(withServer({}, 'generic').source).toBe('static');
    expect(() => buildConfig({ ...minimal, inventory: { source: 'tgi' } })).toThrow(
      "inventory.url: the tgi inventory source needs the model server's URL (or saturation.metrics_url) [required]",
    );
    expect(() =>
      buildConfig({ ...minimal, inventory: { source: 'generic', url: 'http://h:1' } }),
    ).toThrow('inventory.generic: the generic source needs path, list and name');
    expect(() => buildConfig({ ...minimal, inventory: { url: 'http://h:1/v1/models' } })).toThrow(
      'inventory.url',
    );
  });

  test('works from flags alone, with flags overriding the file', () => {
    const flags = flagsToDocument({
      broker: ['mqtt://a:1', 'mqtt://b:2'],
      tenant: ['t1', 't2'],
      replica: 'r1',
      cluster: 'c1',
      stateDir: '/tmp/s',
      protocol: '3.1.1',
    });
    const config = buildConfig({}, flags);
    expect(config.broker.urls).toEqual(['mqtt://a:1', 'mqtt://b:2']);
    expect(config.rules.tenants).toEqual(['t1', 't2']);
    expect(config.broker.protocol).toBe('3.1.1');
    expect(buildConfig(minimal, flagsToDocument({ cluster: 'other' })).identity.cluster).toBe(
      'other',
    );
  });

  test('names the field, the rule and the value of every problem at once', () => {
    const problems = problemsOf(() =>
      buildConfig({
        identity: { cluster: 'GPU East', colour: 'red' },
        broker: { urls: ['http://x'], keepalive_seconds: 0, protocol: 6 },
        rules: { tenants: [] },
        extra: true,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'extra: unknown field "extra" [additionalProperties]',
        'identity.colour: unknown field "colour" [additionalProperties]',
        expect.stringMatching(
          /^identity\.cluster \(--cluster\): must match pattern .* \(got "GPU East"\) \[pattern\]$/,
        ),
        expect.stringMatching(
          /^broker\.urls\[0\] \(--broker\): must match pattern .* \(got "http:\/\/x"\) \[pattern\]$/,
        ),
        'broker.keepalive_seconds: must be >= 1 (got 0) [minimum]',
        'broker.protocol (--protocol): must be one of "5", "3.1.1", 5 (got 6) [enum]',
        'rules.tenants (--tenant): must NOT have fewer than 1 items (got an array of 0) [minItems]',
      ]),
    );
  });

  test('requires the essentials', () => {
    const problems = problemsOf(() => buildConfig({}));
    expect(problems).toEqual(
      expect.arrayContaining([
        'identity.cluster (--cluster): missing required field "cluster" [required]',
        'broker.urls (--broker): missing required field "urls" [required]',
        'rules.tenants (--tenant): missing required field "tenants" [required]',
      ]),
    );
  });

  test('reads loaded models, payload defaults and the API listeners', () => {
    const config = buildConfig(
      {
        ...minimal,
        state: { dir: '/var/lib/x' },
        api: { listen: '127.0.0.1:0' },
        validation: { payload_default: 'sampled', payload_sample_one_in: 10 },
        models: [
          { id: 'llama', version: '1' },
          { id: 'qwen', version: '2', ready: false },
        ],
      },
      {},
      { runtimeDirectory: undefined as unknown as string },
    );
    expect(config.api.listen).toBe('127.0.0.1:0');
    expect(config.validation.payloadDefault).toEqual({ sampleOneIn: 10 });
    expect(config.models).toEqual([
      { id: 'llama', version: '1', ready: true },
      { id: 'qwen', version: '2', ready: false },
    ]);
    expect(
      problemsOf(() => buildConfig({ ...minimal, api: { listen: '0.0.0.0:9000' } }))[0],
    ).toContain('api.listen (--grpc-listen)');
  });

  test('checks the saturation section beyond its schema', () => {
    expect(
      problemsOf(() =>
        buildConfig({ ...minimal, saturation: { saturated_enter: 0.5, saturated_leave: 0.6 } }),
      )[0],
    ).toContain('saturation.saturated_leave');
    expect(
      problemsOf(() => buildConfig({ ...minimal, saturation: { preset: 'generic' } }))[0],
    ).toContain('saturation.generic');
    expect(
      problemsOf(() => buildConfig({ ...minimal, saturation: { metrics_url: 'ftp://x' } }))[0],
    ).toContain('saturation.metrics_url');
  });

  test('refuses an initial reconnect delay above the maximum', () => {
    expect(
      problemsOf(() =>
        buildConfig({
          ...minimal,
          broker: { ...minimal.broker, reconnect: { initial_ms: 5000, max_ms: 100 } },
        }),
      )[0],
    ).toContain('initial_ms');
  });

  test('numbers beyond 2^53 are refused naming the field (TOML int64, 1e300)', () => {
    const doc = parseConfigText(
      '[rules]\ntenants = ["acme"]\nmax_age_seconds = 1e300\n[broker]\nurls = ["mqtt://x:1"]\nkeepalive_seconds = 9223372036854775807\n',
    );
    expect(problemsOf(() => buildConfig({ ...doc, identity: { cluster: 'c' } }))).toEqual([
      'rules.max_age_seconds: must be at most 9007199254740991 in size (got 1e+300) [range]',
      'broker.keepalive_seconds: must be at most 9007199254740991 in size (got 9223372036854775807) [range]',
    ]);
  });

  test('a relative state directory or socket is refused: it would depend on the working directory', () => {
    expect(problemsOf(() => buildConfig({ ...minimal, state: { dir: 'var/filament' } }))).toEqual([
      'state.dir (--state-dir): must be an absolute path (got "var/filament", which would depend on the working directory) [absolute]',
    ]);
    expect(
      problemsOf(() => buildConfig({ ...minimal, api: { socket: './filament.sock' } }))[0],
    ).toContain('api.socket (--grpc-socket): must be an absolute path');
  });

  test('at most 10,000 tenants, and a clock-skew allowance within a day', () => {
    const tenants = Array.from({ length: 10_001 }, (_, i) => `t${i}`);
    expect(problemsOf(() => buildConfig({ ...minimal, rules: { tenants } }))[0]).toContain(
      'rules.tenants (--tenant): must NOT have more than 10000 items',
    );
    expect(
      problemsOf(() =>
        buildConfig({ ...minimal, rules: { tenants: ['a'], max_clock_skew_seconds: 90_000 } }),
      )[0],
    ).toContain('rules.max_clock_skew_seconds: must be <= 86400');
  });

  test('defaultReplica makes any host name usable', () => {
    expect(defaultReplica('Node-7.EXAMPLE.com')).toBe('node-7.example.com');
    expect(defaultReplica('__')).toBe('replica');
  });
});

describe('parseConfigText', () => {
  test('reads TOML', () => {
    expect(parseConfigText('[rules]\ntenants = ["a"]\n')).toEqual({ rules: { tenants: ['a'] } });
  });

  test('names the line and column of a syntax error', () => {
    expect(problemsOf(() => parseConfigText('[rules\n', 'filament.toml'))[0]).toMatch(
      /^filament\.toml:1:\d+: TOML syntax error/,
    );
  });
});

describe('[saturation.canary]', () => {
  const withCanary = (
    saturation: Record<string, unknown>,
    inventory: Record<string, unknown> = {},
  ) => buildConfig({ ...minimal, saturation, inventory });
  const metrics = { metrics_url: 'http://127.0.0.1:8000/metrics' };

  test("off unless enabled; on, the preset's request to the model server", () => {
    expect(withCanary(metrics).saturation.canary).toBeNull();
    expect(withCanary({ ...metrics, canary: { enabled: true } }).saturation.canary).toEqual({
      url: 'http://127.0.0.1:8000',
      model: null,
      request: null,
      timeoutMs: 30_000,
      retryMs: 2_000,
      idleMs: 300_000,
      unhealthyAfter: 5,
    });
    expect(
      withCanary(
        {
          preset: 'triton',
          canary: {
            enabled: true,
            path: '/v2/models/m/generate',
            body: '{"text_input":"Hi","model":"{model}"}',
          },
        },
        { source: 'static', url: 'http://gpu:8000/' },
      ).saturation.canary,
    ).toMatchObject({ url: 'http://gpu:8000', request: { path: '/v2/models/m/generate' } });
  });

  test('what it needs, named when missing', () => {
    expect(problemsOf(() => withCanary({ canary: { enabled: true } }))).toEqual([
      "saturation.canary: needs the model server's URL (inventory.url or saturation.metrics_url) [required]",
    ]);
    expect(
      problemsOf(() => withCanary({ ...metrics, preset: 'triton', canary: { enabled: true } })),
    ).toEqual([
      'saturation.canary: the triton preset has no canary of its own: set path and body [required]',
    ]);
    expect(
      problemsOf(() => withCanary({ ...metrics, canary: { enabled: true, path: '/x' } })),
    ).toEqual([
      'saturation.canary: path and body go together (a configured request needs both) [required]',
    ]);
    expect(
      problemsOf(() =>
        withCanary({
          ...metrics,
          canary: { enabled: true, path: '/x', body: '{"model": {model}}' },
        }),
      )[0],
    ).toMatch(/^saturation\.canary\.body: not JSON once \{model\} is filled in: .* \[format\]$/);
  });
});
