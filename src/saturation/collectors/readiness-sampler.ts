import type { Clock } from '../../clock/index.ts';
import { fetchText } from './fetch-text.ts';
import { PeriodicCollector } from './periodic-collector.ts';

/** What a readiness probe found. */
export interface Readiness {
  /** The server answered (any status): false means unreachable. */
  readonly healthy: boolean;
  /** The server says it is ready. */
  readonly ready: boolean;
  /** Per model (KServe v2 `/v2/models/{name}/ready`), when models were named. */
  readonly models: Readonly<Record<string, boolean>>;
}

/**
 * A sampler for model-server readiness: `GET {base}/v2/health/ready` (KServe v2 / Triton) or a
 * configured URL for the server, plus `GET {base}/v2/models/{name}/ready` for each named model.
 * 200 means ready; any other status means reachable but not ready; a connection error or timeout
 * means unhealthy (and is not thrown, so the state machine can say UNHEALTHY).
 */
export function readinessSampler(options: {
  readonly url: string;
  readonly modelUrl?: (name: string) => string;
  readonly models?: readonly string[];
  readonly timeoutMs: number;
}): () => Promise<Readiness> {
  return async () => {
    let ready: boolean;
    try {
      ready = (await fetchText(options.url, options.timeoutMs, 64 * 1024)).status === 200;
    } catch {
      return { healthy: false, ready: false, models: {} };
    }
    const models: Record<string, boolean> = {};
    for (const name of options.models ?? []) {
      const url = options.modelUrl?.(name);
      if (url === undefined) continue;
      try {
        models[name] = (await fetchText(url, options.timeoutMs, 64 * 1024)).status === 200;
      } catch {
        models[name] = false;
      }
    }
    return { healthy: true, ready, models };
  };
}

/** KServe v2 readiness URLs under a server's base URL. */
export function kserveV2(base: string): { url: string; modelUrl: (name: string) => string } {
  const root = base.replace(/\/+$/, '');
  return {
    url: `${root}/v2/health/ready`,
    modelUrl: (name) => `${root}/v2/models/${encodeURIComponent(name)}/ready`,
  };
}

/** Options for {@linkcode readinessCollector}. */
export interface ReadinessCollectorOptions {
  /** The model server's readiness URL (200 = ready). */
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
}

/**
 * The `readiness` collector: probes the model server every `intervalMs` and judges its health and
 * readiness (unhealthy and not ready until the first probe answers).
 */
export function readinessCollector(
  options: ReadinessCollectorOptions,
): PeriodicCollector<Readiness> {
  return new PeriodicCollector({
    name: 'readiness',
    sample: readinessSampler({ url: options.url, timeoutMs: options.timeoutMs }),
    intervalMs: options.intervalMs,
    clock: options.clock,
    contribute: ({ value }) => ({
      readiness: { healthy: value?.healthy ?? false, ready: value?.ready ?? false },
    }),
  });
}
