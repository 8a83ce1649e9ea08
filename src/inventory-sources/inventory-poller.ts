import type { Clock, TimerHandle } from '../clock/index.ts';
import type { FetchLimits } from '../http-client/index.ts';
import type { InventoryParse, LiveInventory, ServedModel } from '../inventory/index.ts';
import type { Logger } from '../log/index.ts';
import type { WantedModel } from './ask-kserve-ready.ts';
import { askServer, describeEndpoint, type ServerEndpoint } from './ask-server.ts';

/** What changed between two answers, by served name. */
export interface InventoryChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Listed before and now, but at another revision, root, base or state. */
  readonly changed: readonly string[];
}

/** Options for {@linkcode InventoryPoller}. */
export interface InventoryPollerOptions {
  readonly endpoint: ServerEndpoint;
  readonly inventory: LiveInventory;
  readonly intervalMs: number;
  readonly limits: FetchLimits;
  /** How long the last good answer is trusted while the server fails, ms. */
  readonly keepLastGoodMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told at once of every change the inventory took (models, or confirmed/unconfirmed). */
  readonly onChange?: (change: InventoryChange) => void;
  /** Told of every attempt, for metrics. */
  readonly onPoll?: (ok: boolean) => void;
  /**
   * The models the rules route here, for servers that can only be asked model by model (a KServe
   * v2 server without Triton's repository index).
   */
  readonly wanted?: () => readonly WantedModel[];
  /** Asks the server; replaceable in unit tests. Default {@linkcode askServer}. */
  readonly ask?: (
    endpoint: ServerEndpoint,
    limits: FetchLimits,
    wanted: () => readonly WantedModel[],
  ) => Promise<InventoryParse>;
}

/**
 * Asks the model server what it has loaded every `intervalMs` (the next ask starts after the
 * previous one settles) and feeds the answers to a {@linkcode LiveInventory}. A failing server
 * is logged once per distinct error; its last good answer is kept for `keepLastGoodMs`, after
 * which the inventory is unconfirmed (every model refused with `INVENTORY_UNCONFIRMED`) until
 * the server answers again.
 */
export class InventoryPoller {
  private timer: TimerHandle | null = null;
  private running = false;
  private lastSuccessAt: number | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private readonly ask: NonNullable<InventoryPollerOptions['ask']>;
  /** What this source is, for logs and refusals: `vllm http://127.0.0.1:8000/v1/models`. */
  readonly description: string;

  constructor(private readonly options: InventoryPollerOptions) {
    this.ask = options.ask ?? askServer;
    this.description = describeEndpoint(options.endpoint);
  }

  /** Asks at once, then every interval; resolves once the first answer (or failure) was taken. */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    return this.tick();
  }

  /** Stops asking. Idempotent. */
  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /** The last failure's sentence while failing, else `null`. */
  get failing(): string | null {
    return this.lastError;
  }

  /** When the server last answered well, ms since the epoch. */
  get lastSuccess(): number | null {
    return this.lastSuccessAt;
  }

  /** Asks once now; resolves once the answer was taken. */
  async pollNow(): Promise<void> {
    const before = this.options.inventory.served();
    const answer = await this.ask(
      this.options.endpoint,
      this.options.limits,
      this.options.wanted ?? (() => []),
    );
    const now = this.options.clock.now();
    this.options.onPoll?.(answer.ok);
    if (answer.ok) {
      if (this.lastError !== null)
        this.options.logger.info('model server inventory answers again', {
          source: this.description,
          afterFailures: this.failures,
        });
      this.lastError = null;
      this.failures = 0;
      this.lastSuccessAt = now;
      if (this.options.inventory.replace(answer.models)) this.changed(before, answer.models);
      return;
    }
    this.failures++;
    if (answer.error !== this.lastError)
      this.options.logger.warn('model server inventory failing', {
        source: this.description,
        error: answer.error,
        keptForMs: this.lastSuccessAt === null ? 0 : this.options.keepLastGoodMs,
      });
    this.lastError = answer.error;
    const since = this.lastSuccessAt;
    if (since === null || now - since >= this.options.keepLastGoodMs) {
      const reason =
        since === null
          ? `the model server's inventory (${this.description}) has not answered: ${answer.error}`
          : `the model server's inventory (${this.description}) has not answered for over ${Math.round(this.options.keepLastGoodMs / 1000)} s: ${answer.error}`;
      if (this.options.inventory.unconfirm(reason)) {
        this.options.logger.error('model server inventory unconfirmed: refusing its models', {
          source: this.description,
          error: answer.error,
        });
        this.changed(before, before);
      }
    }
  }

  private changed(before: readonly ServedModel[], after: readonly ServedModel[]): void {
    const change = diff(before, after);
    this.options.logger.info('model server inventory changed', {
      source: this.description,
      models: after.length,
      ...change,
    });
    this.options.onChange?.(change);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    await this.pollNow().catch((error) =>
      this.options.logger.error('model server inventory poll failed unexpectedly', {
        error: String(error),
      }),
    );
    if (this.running)
      this.timer = this.options.clock.setTimeout(() => void this.tick(), this.options.intervalMs);
  }
}

function key(m: ServedModel): string {
  return `${m.name}\u0000${m.parent ?? ''}`;
}

function diff(before: readonly ServedModel[], after: readonly ServedModel[]): InventoryChange {
  const old = new Map(before.map((m) => [key(m), m]));
  const now = new Map(after.map((m) => [key(m), m]));
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  for (const [k, m] of now) {
    const was = old.get(k);
    if (was === undefined) added.push(m.name);
    else if (JSON.stringify(was) !== JSON.stringify(m)) changed.push(m.name);
  }
  for (const [k, m] of old) if (!now.has(k)) removed.push(m.name);
  return { added, removed, changed };
}
