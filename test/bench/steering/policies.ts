import type { Clock } from '../../../src/clock/index.ts';
import type { SaturationReport } from '../../../src/report/index.ts';
import {
  type Lease,
  pickReplica,
  pickView,
  type ReplicaEntry,
  Steering,
} from '../../../src/resolver/index.ts';
import {
  PublishPolicy,
  ReplicaStateMachine,
  type Thresholds,
} from '../../../src/saturation/index.ts';
import {
  failingAt,
  type Policy,
  type ReplicaLoad,
  type SimulationHandle,
  serviceMs,
} from './model.ts';

/** Power of two choices on `load` among `candidates` (indices). */
function twoChoices(
  candidates: readonly number[],
  load: (i: number) => number,
  random: () => number,
): number {
  if (candidates.length === 1) return candidates[0] as number;
  const a = candidates[Math.floor(random() * candidates.length)] as number;
  let b = a;
  while (b === a) b = candidates[Math.floor(random() * candidates.length)] as number;
  return load(b) < load(a) ? b : a;
}

/** Each proxy cycles through all replicas. */
export function roundRobin(): Policy {
  let next: number[] = [];
  let n = 0;
  return {
    name: 'round-robin',
    init(sim) {
      n = sim.replicas.length;
      next = [];
    },
    pick(_now, resolver) {
      const i = (next[resolver] ?? resolver) % n;
      next[resolver] = i + 1;
      return i;
    },
  };
}

/** Uniformly random. */
export function random(): Policy {
  let sim: SimulationHandle;
  return {
    name: 'random',
    init(s) {
      sim = s;
    },
    pick: () => Math.floor(sim.random() * sim.replicas.length),
  };
}

/** Each proxy does P2C on the requests it alone has outstanding (Envoy's least-request). */
export function localLeastRequest(): Policy {
  let sim: SimulationHandle;
  let outstanding: number[][] = [];
  let all: number[] = [];
  return {
    name: 'local least-request',
    init(s) {
      sim = s;
      outstanding = [];
      all = s.replicas.map((_, i) => i);
    },
    pick(_now, resolver) {
      const mine = outstanding[resolver] ?? sim.replicas.map(() => 0);
      outstanding[resolver] = mine;
      const i = twoChoices(all, (k) => mine[k] as number, sim.random);
      mine[i] = (mine[i] as number) + 1;
      return i;
    },
    onDone(i, resolver) {
      const mine = outstanding[resolver] as number[];
      mine[i] = (mine[i] as number) - 1;
    },
  };
}

/** A central picker that scrapes every replica's queue and in-flight every `intervalMs` (readiness too). */
export function pullScrape(intervalMs = 50): Policy {
  let sim: SimulationHandle;
  let snapshot: Array<{ ready: boolean; load: number }> = [];
  return {
    name: `${intervalMs} ms pull-scrape`,
    tickMs: intervalMs,
    init(s) {
      sim = s;
      snapshot = s.replicas.map(() => ({ ready: false, load: 0 }));
    },
    tick(now) {
      snapshot = sim.replicas.map((r) => ({
        ready: now >= r.spec.readyAt,
        load: r.queued + r.running,
      }));
    },
    pick() {
      const ready = snapshot.flatMap((s, i) => (s.ready ? [i] : []));
      return twoChoices(
        ready.length > 0 ? ready : sim.replicas.map((_, i) => i),
        (i) => snapshot[i]?.load ?? 0,
        sim.random,
      );
    },
  };
}

/** Perfect, instant knowledge: the replica with the least expected wait, speed included. */
export function oracle(): Policy {
  let sim: SimulationHandle;
  const expectedWait = (r: ReplicaLoad, now: number) => {
    if (failingAt(r.spec, now)) return Number.POSITIVE_INFINITY;
    const ahead = r.queued + r.running + 1;
    const startDelay = Math.max(0, r.spec.readyAt - now);
    const mean = serviceMs(r.spec, now);
    return startDelay + (Math.max(0, ahead - r.spec.slots) / r.spec.slots) * mean + mean;
  };
  return {
    name: 'oracle',
    init(s) {
      sim = s;
    },
    pick(now) {
      let best = 0;
      let bestWait = Number.POSITIVE_INFINITY;
      sim.replicas.forEach((r, i) => {
        const wait = expectedWait(r, now);
        if (wait < bestWait) {
          best = i;
          bestWait = wait;
        }
      });
      return best;
    },
  };
}

/** Options for {@linkcode filament}. */
export interface FilamentSimOptions {
  /**
   * Each resolver counts its own requests in flight and fences replicas whose requests fail (the
   * real `Steering`: `Resolver.acquire` and `Lease.release`); without, every pick is the report
   * alone (`Resolver.pick`).
   */
  readonly accounting: boolean;
  readonly publish?: { heartbeatMs: number; minGapMs: number; scoreStep: number };
  readonly deliveryMs?: number;
  readonly evaluateMs?: number;
}

/**
 * filament: every replica's sidecar pushes its load into the real `ReplicaStateMachine`
 * (as ReportLoad does; a throttled GPU as nvidia-smi's hardware slowdown would show it),
 * publishes through the real `PublishPolicy`, the report reaches the resolvers `deliveryMs`
 * later (MQTT), and each pick is the real `pickReplica` — over the real `Steering` view when
 * `accounting` is on, one per resolver.
 */
export function filament(
  name: string,
  thresholds: Thresholds,
  options: FilamentSimOptions,
): Policy {
  const publish = options.publish ?? { heartbeatMs: 5000, minGapMs: 50, scoreStep: 0.1 };
  const deliveryMs = options.deliveryMs ?? 2;
  const evaluateMs = options.evaluateMs ?? 100;
  let sim: SimulationHandle;
  let now = 0;
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel: () => {} }) };
  let machines: ReplicaStateMachine[] = [];
  let policies: PublishPolicy[] = [];
  let seq: number[] = [];
  // What each model server reports as its recent mean latency (an EWMA of finished requests).
  let latency: Array<{ value: number; at: number } | undefined> = [];
  const table = new Map<number, ReplicaEntry>();
  let steering: Steering[] = [];
  const leases = new Map<number, Lease>();
  const evaluate = (i: number, at: number) => {
    now = at;
    const r = sim.replicas[i] as ReplicaLoad;
    const assessment = (machines[i] as ReplicaStateMachine).update({
      healthy: true,
      ready: at >= r.spec.readyAt,
      rulesStale: false,
      draining: false,
      signals: {
        queue: { value: r.queued, at },
        running: { value: r.running, at },
        // A server that finished nothing lately has no latency to report (no data, not stale).
        ...(latency[i] !== undefined && at - (latency[i]?.at ?? 0) < 2000
          ? { latency: { value: latency[i]?.value as number, at } }
          : {}),
        // nvidia-smi shows a hardware slowdown: the sidecar counts it as half the speed lost.
        ...(r.spec.slowdown && at >= r.spec.slowdown.from ? { throttled: { value: 0.5, at } } : {}),
      },
    });
    const policy = policies[i] as PublishPolicy;
    if (!policy.due(assessment.state, assessment.score, at)) return;
    policy.published(assessment.state, assessment.score, at);
    seq[i] = (seq[i] as number) + 1;
    const report: SaturationReport = {
      replica: r.spec.name,
      cluster: 'sim',
      state: assessment.state,
      score: assessment.score,
      seq: seq[i] as number,
      at,
      capacity: thresholds.maxConcurrency,
      queue: r.queued,
      running: r.running,
    };
    sim.schedule(at + deliveryMs, () => table.set(i, { report, receivedAt: at + deliveryMs }));
  };
  const entries = () => [...table.values()];
  const indexOf = new Map<string, number>();
  return {
    name,
    tickMs: evaluateMs,
    init(s) {
      sim = s;
      table.clear();
      machines = s.replicas.map(() => new ReplicaStateMachine(clock, thresholds));
      policies = s.replicas.map(() => new PublishPolicy(publish));
      seq = s.replicas.map(() => 0);
      latency = s.replicas.map(() => undefined);
      for (const [i, r] of s.replicas.entries()) indexOf.set(r.spec.name, i);
      steering = [];
      leases.clear();
    },
    tick(at) {
      for (let i = 0; i < sim.replicas.length; i++) evaluate(i, at);
    },
    onLoadChange(i, at) {
      evaluate(i, at);
    },
    onDone(i, _resolver, at, _latencyMs, id, ok, servedMs) {
      now = at;
      leases.get(id)?.release(ok ? 'ok' : 'error');
      leases.delete(id);
      // The server's own latency metric counts what it served.
      if (!ok) return;
      const previous = latency[i];
      latency[i] = {
        value:
          previous === undefined ? servedMs : previous.value + 0.1 * (servedMs - previous.value),
        at,
      };
    },
    pick(at, resolver) {
      now = at;
      if (!options.accounting) {
        const choice = pickReplica(entries(), { random: sim.random });
        return choice
          ? (indexOf.get(choice.report.replica) as number)
          : Math.floor(sim.random() * sim.replicas.length);
      }
      let mine = steering[resolver];
      if (mine === undefined) {
        mine = new Steering({ circuitBreaker: { random: sim.random } });
        steering[resolver] = mine;
      }
      const view = pickView(mine.view(entries(), at), { random: sim.random });
      return view
        ? (indexOf.get(view.replica) as number)
        : Math.floor(sim.random() * sim.replicas.length);
    },
    onSent(i, resolver, id, at) {
      const mine = steering[resolver];
      if (mine === undefined) return;
      const r = sim.replicas[i] as ReplicaLoad;
      leases.set(
        id,
        mine.lease({ cluster: 'sim', replica: r.spec.name }, at, () => now),
      );
    },
  };
}
