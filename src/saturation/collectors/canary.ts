import type { Clock, TimerHandle } from '../../clock/index.ts';
import { fetchBounded } from '../../http-client/index.ts';
import { type Logger, silentLogger } from '../../log/index.ts';
import type { Collector, CollectorUpdate, Contribution } from './collector.ts';

/** One tiny real request: where it goes and what it carries. */
export interface CanaryRequest {
  readonly url: string;
  /** A JSON body. */
  readonly body: string;
}

/**
 * The canary a preset knows: a one-token completion (vLLM, SGLang: `POST /v1/completions`; TGI:
 * `POST /generate`). `undefined` for presets without one (Triton, generic: configure a path and
 * body). `model` is the served model name the request names (vLLM and SGLang need one).
 */
export function presetCanary(
  preset: string,
  base: string,
  model: string | undefined,
): CanaryRequest | undefined {
  const root = base.replace(/\/+$/, '');
  if ((preset === 'vllm' || preset === 'sglang') && model !== undefined)
    return {
      url: `${root}/v1/completions`,
      body: JSON.stringify({ model, prompt: 'Hi', max_tokens: 1, temperature: 0 }),
    };
  if (preset === 'tgi')
    return {
      url: `${root}/generate`,
      body: JSON.stringify({ inputs: 'Hi', parameters: { max_new_tokens: 1 } }),
    };
  return undefined;
}

/** Options for {@linkcode CanaryCheck}. */
export interface CanaryOptions {
  /** The request to send now (`undefined`: not possible yet, e.g. no model known). */
  readonly request: () => CanaryRequest | undefined;
  /** How long one canary may take, ms. */
  readonly timeoutMs: number;
  /** How soon a failed canary is tried again, ms. */
  readonly retryMs: number;
  /** After this long without a finished request (and without a canary), prove it again, ms; 0: never. */
  readonly idleMs: number;
  /** Consecutive failures after which the replica is UNHEALTHY, not only COLD. */
  readonly unhealthyAfter: number;
  /** Requests the server has finished, cumulative (canaries left out), when known. */
  readonly completed: () => number | undefined;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Told of each canary that succeeded after failures or at first: its latency, ms. */
  readonly onPassed?: (latencyMs: number, first: boolean) => void;
}

/**
 * Proves the model server can serve by serving it one tiny real request — its `/health` can
 * answer long before (restored workers took 28.8–33.9 s for their first request,
 * ai-dynamo/dynamo#9435). Until a canary succeeds the replica stays COLD, UNHEALTHY after
 * `unhealthyAfter` failures in a row; after `idleMs` with no finished request it is proven again
 * (it stays as it is while that canary is out; a failure makes it COLD). The first success's
 * latency is kept (what a cold start costs). Canaries are counted apart, so the metrics collector
 * can leave them out of the load signals.
 */
export class CanaryCheck implements Collector {
  readonly name = 'canary';
  private proven = false;
  private failures = 0;
  private timer: TimerHandle | null = null;
  private running = false;
  private listener: ((update: CollectorUpdate) => void) | undefined;
  private lastAt: number | undefined;
  private lastCompleted: { count: number | undefined; at: number } | null = null;
  private sent = { count: 0, totalMs: 0 };
  private first: number | undefined;
  private out = false;
  private lastError: string | undefined;

  constructor(private readonly options: CanaryOptions) {}

  start(onUpdate?: (update: CollectorUpdate) => void): void {
    if (this.running) return;
    this.running = true;
    this.listener = onUpdate;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  contribution(): Contribution {
    return {
      canary: { proven: this.proven, unhealthy: this.failures >= this.options.unhealthyAfter },
    };
  }

  lastSampleAt(): number | undefined {
    return this.lastAt;
  }

  /**
   * Canaries that finished, their total time (ms), and whether one is out now: for leaving them
   * out of the load signals (while one is out, the server may have counted it already).
   */
  totals(): { readonly count: number; readonly totalMs: number; readonly inFlight: boolean } {
    return { ...this.sent, inFlight: this.out };
  }

  /** The first successful canary's latency, ms (a cold start's cost), once there is one. */
  get firstLatencyMs(): number | undefined {
    return this.first;
  }

  /** Whether the latest canary succeeded, and why not. */
  get status(): { proven: boolean; failures: number; error?: string } {
    return {
      proven: this.proven,
      failures: this.failures,
      ...(this.lastError !== undefined ? { error: this.lastError } : {}),
    };
  }

  /** Sends one canary now (also used by tests); resolves with whether it succeeded. */
  async probe(): Promise<boolean> {
    const request = this.options.request();
    const clock = this.options.clock;
    const t0 = clock.now();
    if (request === undefined) {
      // Nothing to ask yet (no model loaded): not proven, but not the server failing a request.
      this.proven = false;
      this.lastError = 'no canary request yet (no model known)';
      this.lastAt = t0;
      return false;
    }
    let error: string | undefined;
    this.out = true;
    try {
      const answer = await fetchBounded(
        request.url,
        { timeoutMs: this.options.timeoutMs, maxBytes: 1024 * 1024 },
        { method: 'POST', body: request.body },
      );
      if (answer.status < 200 || answer.status > 299)
        error = `POST ${request.url} answered ${answer.status}: ${answer.text.slice(0, 200)}`;
    } catch (e) {
      error = (e as Error).message;
    }
    const at = clock.now();
    this.sent = { count: this.sent.count + 1, totalMs: this.sent.totalMs + (at - t0) };
    this.out = false;
    this.lastAt = at;
    const log = this.options.logger ?? silentLogger;
    if (error === undefined) {
      const first = this.first === undefined;
      this.first ??= at - t0;
      if (!this.proven) {
        log.info('canary passed: the model server serves', {
          latencyMs: at - t0,
          firstLatencyMs: this.first,
          afterFailures: this.failures,
        });
        this.options.onPassed?.(at - t0, first);
      }
      this.proven = true;
      this.failures = 0;
      this.lastError = undefined;
    } else {
      this.proven = false;
      this.failures++;
      this.lastError = error;
      if (this.failures === 1 || this.failures === this.options.unhealthyAfter)
        log.warn(
          this.failures >= this.options.unhealthyAfter
            ? 'canary keeps failing: the replica is UNHEALTHY'
            : 'canary failed: the replica stays COLD until one succeeds',
          { error, failures: this.failures },
        );
    }
    this.listener?.({
      consecutiveFailures: this.failures,
      at,
      ...(error !== undefined ? { error: `canary: ${error}` } : {}),
    });
    return error === undefined;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.options.clock.setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    if (!this.proven || this.idle()) await this.probe();
    if (!this.proven) this.schedule(this.options.retryMs);
    // Proven, and never proven again after idle: nothing more to do.
    else if (this.options.idleMs > 0) this.schedule(Math.min(this.options.idleMs, 1000));
  }

  /** No request finished for `idleMs`, and no canary either. */
  private idle(): boolean {
    const { idleMs, clock } = this.options;
    if (idleMs <= 0) return false;
    const now = clock.now();
    const count = this.options.completed();
    if (this.lastCompleted === null || count !== this.lastCompleted.count)
      this.lastCompleted = { count, at: now };
    return now - this.lastCompleted.at >= idleMs && now - (this.lastAt ?? 0) >= idleMs;
  }
}
