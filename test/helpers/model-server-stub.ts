import {
  type ModelServerStandIn,
  startModelServerStandIn,
  vllmMetrics,
} from '../../src/demo/index.ts';

/** The model-server stand-in the demo uses, under the tests' name. */
export type ModelServerStub = ModelServerStandIn;

/**
 * Starts a {@linkcode ModelServerStub} on a free loopback port that lists (`/v1/models`) the
 * models the rule sets of `test/helpers/rule-sets.ts` route to gpu-east: a host whose server has
 * none of them can serve nothing routed to it, and is COLD.
 */
export async function startModelServerStub(): Promise<ModelServerStub> {
  const stub = await startModelServerStandIn();
  stub.served = [{ id: 'llama-8b' }, { id: 'qwen-7b' }];
  return stub;
}

export { vllmMetrics };

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
