import { type Logger, silentLogger } from '../log/index.ts';
import { DEFAULT_HEARTBEAT_MS } from '../report/index.ts';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { InFlightLedger } from './in-flight-ledger.ts';
import type { ReplicaEntry } from './replica-table.ts';
import { type ReplicaView, type StalePolicy, viewReplicas } from './replica-view.ts';

/** How a request handed out by {@linkcode Resolver.acquire} ended. */
export type LeaseOutcome = 'ok' | 'error' | 'timeout';

/** A request on its way to a replica: end it with {@linkcode Lease.release} when it finishes. */
export interface Lease {
  readonly cluster: string;
  readonly replica: string;
  /**
   * The request finished: `ok` (default), or failed with `error` or `timeout` (both count toward
   * the replica's circuit). Idempotent: only the first call counts.
   */
  release(outcome?: LeaseOutcome): void;
}

/** Options for the resolver's own view of replicas (beyond their reports). */
export interface SteeringOptions {
  /** A report older than this is stale, ms. Default {@linkcode DEFAULT_STALE_AFTER_MS}. */
  readonly staleAfterMs?: number;
  /** What a stale report counts as. Default `saturated`. */
  readonly stalePolicy?: StalePolicy;
  /** Fencing replicas whose requests fail; `false` turns it off. */
  readonly circuitBreaker?: Partial<CircuitBreakerOptions> | false;
}

/** Two default heartbeats and a second: a replica reporting on time is never stale. */
export const DEFAULT_STALE_AFTER_MS = 2 * DEFAULT_HEARTBEAT_MS + 1000;

/**
 * What one resolver adds to the reports: the requests it has in flight per replica (an
 * {@linkcode InFlightLedger}), a {@linkcode CircuitBreaker} per replica fed by how they end, and
 * the staleness policy — combined by {@linkcode viewReplicas}. It warns once per replica whose
 * heartbeat is longer than the staleness limit (it would be judged stale between heartbeats while
 * perfectly healthy: llm-d saw healthy pods judged stale 98.7 % of the time that way).
 */
export class Steering {
  readonly ledger = new InFlightLedger();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly warned = new Set<string>();
  private readonly staleAfterMs: number;
  private readonly stalePolicy: StalePolicy;
  private readonly log: Logger;

  constructor(
    private readonly options: SteeringOptions = {},
    logger?: Logger,
  ) {
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.stalePolicy = options.stalePolicy ?? 'saturated';
    this.log = logger ?? silentLogger;
  }

  /** The replicas of `entries` as this resolver weighs them at `now`. */
  view(entries: readonly ReplicaEntry[], now: number): ReplicaView[] {
    for (const { report } of entries) {
      const heartbeat = report.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
      const key = `${report.cluster}/${report.replica}`;
      if (heartbeat < this.staleAfterMs || this.warned.has(key)) continue;
      this.warned.add(key);
      this.log.warn(
        "a replica's heartbeat is not shorter than this resolver's staleness limit: it will be judged stale between heartbeats",
        {
          replica: report.replica,
          cluster: report.cluster,
          heartbeatMs: heartbeat,
          staleAfterMs: this.staleAfterMs,
        },
      );
    }
    return viewReplicas(entries, this.ledger, (k) => this.breakers.get(k), now, {
      staleAfterMs: this.staleAfterMs,
      stalePolicy: this.stalePolicy,
    });
  }

  /** Hands out a request to `view`'s replica at `now`; `clock` times its end. */
  lease(view: Pick<ReplicaView, 'cluster' | 'replica'>, now: number, clock: () => number): Lease {
    const key = `${view.cluster}/${view.replica}`;
    const id = this.ledger.start(key, now);
    const breaker = this.breaker(key);
    breaker?.sent(now);
    let open = true;
    return {
      cluster: view.cluster,
      replica: view.replica,
      release: (outcome: LeaseOutcome = 'ok') => {
        if (!open) return;
        open = false;
        const at = clock();
        this.ledger.finish(key, id, outcome === 'ok', at);
        breaker?.ended(outcome === 'ok', at, now);
      },
    };
  }

  private breaker(key: string): CircuitBreaker | undefined {
    if (this.options.circuitBreaker === false) return undefined;
    let breaker = this.breakers.get(key);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.options.circuitBreaker ?? {});
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}
