import { EventQueue } from './event-queue.ts';
import { exponential, seededRandom } from './random.ts';

/** One simulated replica: a batch of `slots` requests at a time, the rest queued. */
export interface ReplicaSpec {
  readonly name: string;
  readonly slots: number;
  /** Mean service time of one request, ms (exponential). */
  readonly meanServiceMs: number;
  /** Until this time the model is not loaded: requests wait (and the replica reports COLD). */
  readonly readyAt: number;
  /** From `from`, every request takes `factor` times as long (a GPU throttled to 1/factor speed). */
  readonly slowdown?: { readonly from: number; readonly factor: number };
  /**
   * Between `from` and `until` it accepts requests and fails each after `failMs`, while its own
   * metrics (queue, running) look idle: its reports still say READY.
   */
  readonly failing?: { readonly from: number; readonly until: number; readonly failMs: number };
}

/** The mean service time of `spec` at `now`, ms. */
export function serviceMs(spec: ReplicaSpec, now: number): number {
  return (
    spec.meanServiceMs * (spec.slowdown && now >= spec.slowdown.from ? spec.slowdown.factor : 1)
  );
}

/** Whether `spec` fails every request at `now`. */
export function failingAt(spec: ReplicaSpec, now: number): boolean {
  return spec.failing !== undefined && now >= spec.failing.from && now < spec.failing.until;
}

/** What every policy can see of a replica; the oracle and the scrapers read it, others must not. */
export interface ReplicaLoad {
  readonly spec: ReplicaSpec;
  queued: number;
  running: number;
}

/** A request-routing policy under test. `resolver` is which of the independent proxies asks. */
export interface Policy {
  readonly name: string;
  /** Called once before the run with the replicas and a seeded random source. */
  init(sim: SimulationHandle): void;
  pick(now: number, resolver: number): number;
  /** The request `id` from `resolver` went to replica `i` (after `pick`). */
  onSent?(i: number, resolver: number, id: number, now: number): void;
  /** Optional periodic work (scrapes, evaluation loops); `tickMs` says how often. */
  readonly tickMs?: number;
  tick?(now: number): void;
  /** Load changed at replica `i` (a request queued, started or finished). */
  onLoadChange?(i: number, now: number): void;
  /**
   * Request `id` this resolver sent to replica `i` finished after `latencyMs` (of which
   * `servedMs` being served, the rest waiting), well or not.
   */
  onDone?(
    i: number,
    resolver: number,
    now: number,
    latencyMs: number,
    id: number,
    ok: boolean,
    servedMs: number,
  ): void;
}

/** What a policy may use from the running simulation. */
export interface SimulationHandle {
  readonly replicas: readonly ReplicaLoad[];
  readonly random: () => number;
  /** Runs `fn` at `at` (message delays, reports in flight). */
  schedule(at: number, fn: () => void): void;
}

/** Parameters of one run. */
export interface SimulationOptions {
  readonly replicas: readonly ReplicaSpec[];
  /** Requests per second. */
  readonly rate: number;
  /** Bursts: `factor` times the rate for `lengthMs` at the start of every `everyMs`. */
  readonly burst?: { readonly everyMs: number; readonly lengthMs: number; readonly factor: number };
  readonly durationMs: number;
  /** Independent proxies the arrivals are spread over (for local-knowledge policies). */
  readonly resolvers: number;
  readonly seed: number;
}

type Event =
  | { kind: 'arrival' }
  | { kind: 'complete'; replica: number; request: Request; started: number }
  | { kind: 'fail'; replica: number; request: Request }
  | { kind: 'ready'; replica: number }
  | { kind: 'tick' }
  | { kind: 'call'; fn: () => void };

interface Request {
  readonly id: number;
  readonly arrival: number;
  readonly resolver: number;
}

/** What a run gives: every successful request's latency (ms), and how many failed. */
export interface SimulationResult {
  readonly latencies: number[];
  readonly failures: number;
}

/** Runs one policy over the workload. */
export function simulate(policy: Policy, options: SimulationOptions): SimulationResult {
  const random = seededRandom(options.seed);
  const serviceRandom = seededRandom(options.seed * 31 + 7);
  const events = new EventQueue<Event>();
  const loads: ReplicaLoad[] = options.replicas.map((spec) => ({ spec, queued: 0, running: 0 }));
  const queues: Request[][] = options.replicas.map(() => []);
  const latencies: number[] = [];
  let failures = 0;
  let nextId = 0;
  const rateAt = (now: number) =>
    options.burst && now % options.burst.everyMs < options.burst.lengthMs
      ? options.rate * options.burst.factor
      : options.rate;
  const handle: SimulationHandle = {
    replicas: loads,
    random: seededRandom(options.seed * 17 + 3),
    schedule: (at, fn) => events.push(at, { kind: 'call', fn }),
  };
  policy.init(handle);

  const startNext = (i: number, now: number) => {
    const load = loads[i] as ReplicaLoad;
    const queue = queues[i] as Request[];
    while (now >= load.spec.readyAt && load.running < load.spec.slots && queue.length > 0) {
      const request = queue.shift() as Request;
      load.queued--;
      load.running++;
      events.push(now + exponential(serviceRandom, serviceMs(load.spec, now)), {
        kind: 'complete',
        replica: i,
        request,
        started: now,
      });
    }
    policy.onLoadChange?.(i, now);
  };

  events.push(0, { kind: 'arrival' });
  options.replicas.forEach((spec, i) => {
    if (spec.readyAt > 0) events.push(spec.readyAt, { kind: 'ready', replica: i });
  });
  if (policy.tickMs) events.push(0, { kind: 'tick' });

  for (let item = events.pop(); item !== undefined; item = events.pop()) {
    const { at: now, event } = item;
    switch (event.kind) {
      case 'arrival': {
        if (now > options.durationMs) break;
        const resolver = Math.floor(random() * options.resolvers);
        const i = policy.pick(now, resolver);
        const request = { id: nextId++, arrival: now, resolver };
        policy.onSent?.(i, resolver, request.id, now);
        const spec = (loads[i] as ReplicaLoad).spec;
        if (failingAt(spec, now) && spec.failing)
          events.push(now + spec.failing.failMs, { kind: 'fail', replica: i, request });
        else {
          (queues[i] as Request[]).push(request);
          (loads[i] as ReplicaLoad).queued++;
          startNext(i, now);
        }
        events.push(now + exponential(random, 1000 / rateAt(now)), { kind: 'arrival' });
        break;
      }
      case 'fail': {
        failures++;
        const { request } = event;
        policy.onDone?.(
          event.replica,
          request.resolver,
          now,
          now - request.arrival,
          request.id,
          false,
          now - request.arrival,
        );
        break;
      }
      case 'complete': {
        (loads[event.replica] as ReplicaLoad).running--;
        latencies.push(now - event.request.arrival);
        policy.onDone?.(
          event.replica,
          event.request.resolver,
          now,
          now - event.request.arrival,
          event.request.id,
          true,
          now - event.started,
        );
        startNext(event.replica, now);
        break;
      }
      case 'ready':
        startNext(event.replica, now);
        break;
      case 'tick':
        policy.tick?.(now);
        if (now < options.durationMs && policy.tickMs)
          events.push(now + policy.tickMs, { kind: 'tick' });
        break;
      case 'call':
        event.fn();
        break;
    }
  }
  return { latencies, failures };
}
