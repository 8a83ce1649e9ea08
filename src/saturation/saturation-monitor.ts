import type { Clock, TimerHandle } from '../clock/index.ts';
import type { ModelInventory } from '../inventory/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import type { SaturationReport } from '../report/index.ts';
import type { Collector, CollectorUpdate, Contribution } from './collectors/index.ts';
import { MonitorLog } from './monitor-log.ts';
import {
  DEFAULT_PUBLISH_POLICY,
  PublishPolicy,
  type PublishPolicyOptions,
} from './publish-policy.ts';
import { type Assessment, ReplicaStateMachine } from './replica-state.ts';
import { reportSignals } from './report-signals.ts';
import type { PushedLoad, Signals } from './signals.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './thresholds.ts';

/** Options for {@linkcode SaturationMonitor}. */
export interface SaturationMonitorOptions {
  readonly replica: string;
  readonly cluster: string;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly thresholds?: Thresholds;
  readonly publishPolicy?: PublishPolicyOptions;
  /** How often signals are turned into a state, ms. Default 100. */
  readonly evaluateMs?: number;
  /**
   * Where signals come from (metrics scrape, readiness probe, nvidia-smi, …), in merge order: a
   * signal two collectors give is taken from the later one. Load pushed over ReportLoad wins over
   * both when it is fresher. Default: none.
   */
  readonly collectors?: readonly Collector[];
  /**
   * Configured models (reported, and the readiness fallback when no probe is configured: then
   * the replica is ready only while one of them is, and never with none).
   */
  readonly models: ModelInventory;
  /** Applied rule versions per tenant, and whether they are stale. */
  readonly rules: () => {
    readonly versions: Readonly<Record<string, number>>;
    readonly stale: boolean;
  };
  /** True once the sidecar is stopping. */
  readonly draining: () => boolean;
  /**
   * Models the host must serve (`[[models]]`) that the server does not have as expected: while
   * there are any the replica is UNHEALTHY, and the report names them.
   */
  readonly drift?: () => readonly string[];
  /**
   * True while the rules route keys to this host and it can serve none of them (the models they
   * name are not loaded): the replica is then not ready (COLD), whatever its probe says.
   */
  readonly servesNothing?: () => boolean;
  /** Keys the host's request-path check refused "elsewhere" lately, carried in every report. */
  readonly refusals?: () => SaturationReport['refusals'];
  /** The seq and digest of the servable set last published, carried in every report. */
  readonly servable?: () => { readonly seq: number; readonly digest: string } | undefined;
  /** Where reports go (the MQTT topic, in the sidecar). */
  readonly publish: (report: SaturationReport) => void;
  /** Told about every collector sample, good or failed (for metrics); not when a source is absent. */
  readonly onCollectorUpdate?: (collector: string, update: CollectorUpdate) => void;
}

/**
 * Collects a replica's signals (model-server metrics, readiness, GPU, load pushed by the server),
 * turns them into a state and score every `evaluateMs`, and publishes a report when the
 * {@linkcode PublishPolicy} says so. A failing collector degrades only its own signal.
 */
export class SaturationMonitor {
  private readonly machine: ReplicaStateMachine;
  private readonly policy: PublishPolicy;
  private readonly collectors: readonly Collector[];
  private pushed: Signals = {};
  private timer: TimerHandle | null = null;
  private seq = 0;
  private lastReport: SaturationReport | null = null;
  private lastAssessment: Assessment | null = null;
  private readonly listeners = new Set<(report: SaturationReport) => void>();
  private readonly notes: MonitorLog;
  private thresholds: Thresholds;
  private readonly log: Logger;

  constructor(private readonly options: SaturationMonitorOptions) {
    this.log = options.logger ?? silentLogger;
    this.notes = new MonitorLog(this.log);
    this.thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
    this.machine = new ReplicaStateMachine(options.clock, this.thresholds);
    this.policy = new PublishPolicy(options.publishPolicy ?? DEFAULT_PUBLISH_POLICY);
    this.collectors = options.collectors ?? [];
  }

  /** Starts the collectors and the evaluation loop. */
  start(): void {
    for (const collector of this.collectors)
      collector.start((update) => this.collectorUpdated(collector.name, update));
    this.loop();
  }

  /** Stops everything. Idempotent. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    for (const collector of this.collectors) collector.stop();
  }

  /** Applies new thresholds from a config reload. @throws {RangeError} when inconsistent. */
  setThresholds(thresholds: Thresholds): void {
    this.machine.setThresholds(thresholds);
    this.thresholds = thresholds;
  }

  /** Load the model server pushed itself (the ReportLoad RPC); merged over scraped signals. */
  pushLoad(load: PushedLoad): void {
    const at = this.options.clock.now();
    this.pushed = {
      ...this.pushed,
      ...(load.queue !== undefined ? { queue: { value: load.queue, at } } : {}),
      ...(load.running !== undefined ? { running: { value: load.running, at } } : {}),
      ...(load.kvCache !== undefined ? { kvCache: { value: load.kvCache, at } } : {}),
      ...(load.latency !== undefined ? { latency: { value: load.latency, at } } : {}),
      ...(load.requestRate !== undefined ? { requestRate: { value: load.requestRate, at } } : {}),
      ...(load.errorRate !== undefined ? { errorRate: { value: load.errorRate, at } } : {}),
    };
    this.evaluate();
  }

  /** The last report made (published or not yet), or `null` before the first evaluation. */
  current(): SaturationReport | null {
    return this.lastReport;
  }

  /** Subscribes to every published report; returns the unsubscribe function. */
  onReport(listener: (report: SaturationReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A report with state OFFLINE, for the last will and the final message of a clean stop. */
  offlineReport(): SaturationReport {
    return {
      ...this.baseReport(),
      state: 'OFFLINE',
      score: 1,
      seq: ++this.seq,
      at: this.options.clock.now(),
    };
  }

  /** Evaluates now and publishes the result whatever the policy says (for a clean stop). */
  publishNow(): SaturationReport {
    this.evaluate(true);
    return this.lastReport as SaturationReport;
  }

  /** Evaluates now and publishes if due (or `force`); returns the assessment. */
  evaluate(force = false): Assessment {
    const now = this.options.clock.now();
    const contributions = this.collectors.map((c) => c.contribution());
    const signals = this.signals(contributions);
    const readiness = contributions.find((c) => c.readiness !== undefined)?.readiness;
    const canary = contributions.find((c) => c.canary !== undefined)?.canary;
    const completed = contributions.find((c) => c.completed !== undefined)?.completed;
    const models = this.options.models.list();
    const drift = this.options.drift?.() ?? [];
    const faults = contributions.flatMap((c) => c.faults ?? []);
    this.notes.hardware(
      faults,
      contributions.flatMap((c) => c.slowdowns ?? []),
    );
    const assessment = this.machine.update({
      healthy:
        (readiness?.healthy ?? true) &&
        drift.length === 0 &&
        faults.length === 0 &&
        !(canary?.unhealthy ?? false),
      ready:
        // With no readiness probe, a host is ready only while some model is: one that knows of no
        // model at all can serve nothing, and must not report READY at the best score.
        (readiness?.ready ?? models.some((m) => m.ready)) &&
        (canary?.proven ?? true) &&
        !(this.options.servesNothing?.() ?? false),
      rulesStale: this.options.rules().stale,
      draining: this.options.draining(),
      signals,
      ...(completed !== undefined ? { completed } : {}),
    });
    this.lastAssessment = assessment;
    const report: SaturationReport = {
      ...this.baseReport(),
      state: assessment.state,
      score: assessment.score,
      ...reportSignals(signals, now),
      ...(assessment.raw.stale.length > 0 ? { stale: assessment.raw.stale } : {}),
      ...(drift.length > 0 ? { drift: drift.slice(0, 16) } : {}),
      ...(faults.length > 0 ? { faults: faults.slice(0, 8) } : {}),
      ...refusalsField(this.options.refusals?.()),
      seq: this.seq + 1,
      at: now,
    };
    this.lastReport = report;
    if (force || this.policy.due(assessment.state, assessment.score, now)) {
      this.seq++;
      this.policy.published(assessment.state, assessment.score, now);
      if (assessment.changed)
        this.log.info('replica state', {
          state: assessment.state,
          score: round(assessment.score),
          stale: assessment.raw.stale,
        });
      this.options.publish(report);
      for (const listener of this.listeners) listener(report);
    }
    return assessment;
  }

  /** Age of each collector's last good sample, seconds (collectors with no sample yet are left out). */
  collectorAges(): Array<{ collector: string; ageSeconds: number }> {
    const now = this.options.clock.now();
    return this.collectors.flatMap((c) => {
      const at = c.lastSampleAt();
      return at === undefined ? [] : [{ collector: c.name, ageSeconds: (now - at) / 1000 }];
    });
  }

  /** The last assessment, for status output. */
  get assessment(): Assessment | null {
    return this.lastAssessment;
  }

  private signals(contributions: readonly Contribution[]): Signals {
    const merged: Record<string, Signals['queue']> = {};
    for (const c of contributions) Object.assign(merged, c.signals);
    // Pushed load wins over a collector's when it is fresher.
    for (const [name, reading] of Object.entries(this.pushed)) {
      const current = merged[name];
      if (reading && (!current || reading.at >= current.at)) merged[name] = reading;
    }
    return merged as Signals;
  }

  private baseReport() {
    const models = this.options.models.list();
    return {
      replica: this.options.replica,
      cluster: this.options.cluster,
      // The first few only: a server with thousands of adapters must not grow every report past
      // what resolvers accept (what each host can serve travels in its servable set instead).
      ...(models.length > 0
        ? {
            models: models
              .slice(0, MAX_REPORTED_MODELS)
              .map((m) => ({ id: m.id, version: m.version, ready: m.ready })),
          }
        : {}),
      ruleVersions: this.options.rules().versions,
      // What a resolver needs to add its own unseen requests to the score, and to judge staleness.
      capacity: this.thresholds.maxConcurrency,
      heartbeatMs: (this.options.publishPolicy ?? DEFAULT_PUBLISH_POLICY).heartbeatMs,
      ...servableField(this.options.servable?.()),
    };
  }

  private loop(): void {
    this.evaluate();
    this.timer = this.options.clock.setTimeout(() => this.loop(), this.options.evaluateMs ?? 100);
  }

  private collectorUpdated(name: string, update: CollectorUpdate): void {
    this.notes.collectorUpdated(name, update);
    if (update.absent) return;
    this.options.onCollectorUpdate?.(name, update);
    // A fresh sample is judged at once rather than on the next evaluation tick.
    if (this.timer !== null) this.evaluate();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Models listed in a report at most (the servable set carries the whole truth). */
export const MAX_REPORTED_MODELS = 32;

function servableField(servable: { readonly seq: number; readonly digest: string } | undefined): {
  inventory?: { seq: number; digest: string };
} {
  return servable ? { inventory: { seq: servable.seq, digest: servable.digest } } : {};
}

function refusalsField(refusals: SaturationReport['refusals']): Partial<SaturationReport> {
  return refusals !== undefined && refusals.length > 0 ? { refusals: refusals.slice(0, 16) } : {};
}
