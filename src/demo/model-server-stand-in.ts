import { createServer, type Server } from 'node:http';

/**
 * A tiny HTTP server standing in for a model server (for the demo and the tests): `/metrics`
 * serves whatever text is set, `/v2/health/ready` and `/v2/models/{name}/ready` answer 200 or
 * 503/404 as set, the inventory endpoints list `served`, generation requests (vLLM/SGLang
 * `/v1/completions`, TGI `/generate`) are answered after `inferenceDelayMs`, and any other path is
 * answered `ok` and counted (a stand-in for inference, for load balancers in front of it).
 */
export interface ModelServerStandIn {
  readonly base: string;
  metrics: string;
  metricsStatus: number;
  ready: boolean;
  readonly modelsReady: Map<string, boolean>;
  /**
   * What it says it has loaded, answered in each server's own shape: vLLM/SGLang
   * `GET /v1/models`, TGI `GET /info` (the first entry) and Triton `POST /v2/repository/index`.
   */
  served: StandInModel[];
  /** Requests it has answered as if it were serving inference (any other path, answered 200). */
  readonly hits: () => number;
  /**
   * How long a generation request (`POST /v1/completions`, `POST /generate`) takes, ms — a cold
   * server's first request can take tens of seconds while `/health` answers at once.
   */
  inferenceDelayMs: number;
  /** The status generation requests get (500: a server that fails them). */
  inferenceStatus: number;
  /** The bodies of the generation requests it received. */
  readonly generations: string[];
  close(): Promise<void>;
}

/** One model (or LoRA adapter, with `parent`) the stand-in lists. */
export interface StandInModel {
  readonly id: string;
  /** vLLM/SGLang `root`: where it was loaded from. Default: the id. */
  readonly root?: string;
  /** vLLM/SGLang `parent`: the base model of an adapter. */
  readonly parent?: string;
  /** TGI `model_sha` / Triton version. */
  readonly revision?: string;
  /** Triton state. Default READY. */
  readonly state?: 'READY' | 'LOADING' | 'UNAVAILABLE';
  readonly reason?: string;
}

/** Starts a {@linkcode ModelServerStandIn} on a free loopback port. */
export async function startModelServerStandIn(): Promise<ModelServerStandIn> {
  const state = {
    metrics: '',
    metricsStatus: 200,
    ready: false,
    modelsReady: new Map<string, boolean>(),
    served: [] as StandInModel[],
    inferenceDelayMs: 0,
    inferenceStatus: 200,
    generations: [] as string[],
  };
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url === '/metrics') {
      response
        .writeHead(state.metricsStatus, { 'content-type': 'text/plain; version=0.0.4' })
        .end(state.metrics);
      return;
    }
    const inventory = inventoryAnswer(request.method ?? 'GET', url, state.served);
    if (inventory !== null) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(inventory);
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
    if (request.method === 'POST' && (url === '/v1/completions' || url === '/generate')) {
      let body = '';
      request.on('data', (c) => {
        body += String(c);
      });
      request.on('end', () => {
        setTimeout(() => {
          // Counted when it finishes, as servers count finished requests.
          state.generations.push(body);
          response
            .writeHead(state.inferenceStatus, { 'content-type': 'application/json' })
            .end(
              state.inferenceStatus === 200
                ? JSON.stringify({ choices: [{ text: '!' }], generated_text: '!' })
                : JSON.stringify({ error: 'the stand-in fails generation requests' }),
            );
        }, state.inferenceDelayMs);
      });
      return;
    }
    // Anything else stands for an inference request (what a load balancer in front sends).
    hits++;
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  });
  let hits = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(state, {
    base: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** The stand-in's answer to an inventory request, in the shape of the server that has it. */
function inventoryAnswer(
  method: string,
  url: string,
  served: readonly StandInModel[],
): string | null {
  if (method === 'GET' && url === '/v1/models') {
    return JSON.stringify({
      object: 'list',
      data: served.map((m) => ({
        id: m.id,
        object: 'model',
        created: 1764633600,
        owned_by: 'vllm',
        root: m.root ?? m.id,
        parent: m.parent ?? null,
        max_model_len: m.parent === undefined ? 8192 : null,
      })),
    });
  }
  if (method === 'GET' && url === '/info' && served[0] !== undefined) {
    const m = served[0];
    return JSON.stringify({
      model_id: m.id,
      model_sha: m.revision ?? null,
      max_input_length: 4095,
      max_total_tokens: 4096,
      version: '2.0.2',
    });
  }
  if (method === 'POST' && url === '/v2/repository/index') {
    return JSON.stringify(
      served.map((m) => ({
        name: m.id,
        version: m.revision ?? '1',
        state: m.state ?? 'READY',
        ...(m.reason ? { reason: m.reason } : {}),
      })),
    );
  }
  return null;
}

/**
 * vLLM-style metrics text: `waiting` queued, `running` in flight, KV-cache use, and — given
 * `finished` — the V1 `vllm:request_success_total` counter by finished_reason (`errors` of them
 * with reason "error").
 */
export function vllmMetrics(
  waiting: number,
  running = 1,
  kvCache = 0.1,
  finished?: { readonly requests: number; readonly errors?: number },
): string {
  const lines = [
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{model_name="m"} ${waiting}`,
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{model_name="m"} ${running}`,
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{model_name="m"} ${kvCache}`,
  ];
  if (finished !== undefined) {
    const errors = finished.errors ?? 0;
    lines.push(
      '# TYPE vllm:request_success_total counter',
      `vllm:request_success_total{finished_reason="stop",model_name="m"} ${finished.requests - errors}`,
      `vllm:request_success_total{finished_reason="error",model_name="m"} ${errors}`,
    );
  }
  return [...lines, ''].join('\n');
}
