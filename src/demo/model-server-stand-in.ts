import { createServer, type Server } from 'node:http';

/**
 * A tiny HTTP server standing in for a model server (for the demo and the tests): `/metrics`
 * serves whatever text is set, `/v2/health/ready` and `/v2/models/{name}/ready` answer 200 or
 * 503/404 as set. It serves no inference.
 */
export interface ModelServerStandIn {
  readonly base: string;
  metrics: string;
  metricsStatus: number;
  ready: boolean;
  readonly modelsReady: Map<string, boolean>;
  close(): Promise<void>;
}

/** Starts a {@linkcode ModelServerStandIn} on a free loopback port. */
export async function startModelServerStandIn(): Promise<ModelServerStandIn> {
  const state = {
    metrics: '',
    metricsStatus: 200,
    ready: false,
    modelsReady: new Map<string, boolean>(),
  };
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url === '/metrics') {
      response
        .writeHead(state.metricsStatus, { 'content-type': 'text/plain; version=0.0.4' })
        .end(state.metrics);
      return;
    }
    if (url === '/v2/health/ready') {
      response.writeHead(state.ready ? 200 : 503).end();
      return;
    }
    const model = /^\/v2\/models\/([^/]+)\/ready$/.exec(url)?.[1];
    if (model !== undefined) {
      response.writeHead(state.modelsReady.get(decodeURIComponent(model)) ? 200 : 404).end();
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(state, {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** vLLM-style metrics text: `waiting` queued, `running` in flight, KV-cache use. */
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
