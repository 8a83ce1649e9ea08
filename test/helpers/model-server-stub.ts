import { createServer, type Server } from 'node:http';

/**
 * A small real HTTP server standing in for a model server: `/metrics` serves whatever text the
 * test sets, `/v2/health/ready` and `/v2/models/{name}/ready` answer 200 or 503 as the test sets.
 */
export interface ModelServerStub {
  readonly base: string;
  metrics: string;
  metricsStatus: number;
  ready: boolean;
  readonly modelsReady: Map<string, boolean>;
  close(): Promise<void>;
}

/** Starts a {@linkcode ModelServerStub} on a free loopback port. */
export async function startModelServerStub(): Promise<ModelServerStub> {
  const stub = {
    metrics: '',
    metricsStatus: 200,
    ready: false,
    modelsReady: new Map<string, boolean>(),
  } as ModelServerStub;
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url === '/metrics') {
      response.writeHead(stub.metricsStatus, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(stub.metrics);
      return;
    }
    if (url === '/v2/health/ready') {
      response.writeHead(stub.ready ? 200 : 503).end();
      return;
    }
    const model = /^\/v2\/models\/([^/]+)\/ready$/.exec(url)?.[1];
    if (model !== undefined) {
      response.writeHead(stub.modelsReady.get(decodeURIComponent(model)) ? 200 : 404).end();
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  Object.assign(stub, {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return stub;
}

/** vLLM-style metrics text with `waiting` queued requests. */
export function vllmMetrics(waiting: number, running = 1, kvCache = 0.1): string {
  return [
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{model_name="m"} ${waiting}`,
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{model_name="m"} ${running}`,
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{model_name="m"} ${kvCache}`,
    '',
  ].join('\n');
}

/** A `[saturation]` config section that scrapes `stub` fast enough for tests. */
export function fastSaturationConfig(stub: ModelServerStub): string {
  return [
    '[saturation]',
    `metrics_url = "${stub.base}/metrics"`,
    `readiness_url = "${stub.base}/v2/health/ready"`,
    'preset = "vllm"',
    'scrape_interval_ms = 40',
    'readiness_interval_ms = 40',
    'evaluate_interval_ms = 40',
    'warmup_ms = 300',
    'smoothing = 1',
    'max_queue = 10',
    'heartbeat_ms = 1000',
    'nvidia_smi = "off"',
    '',
  ].join('\n');
}
