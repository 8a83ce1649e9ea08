import type { Clock, TimerHandle } from '../clock/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import type { SaturationReport } from '../report/index.ts';
import type { ModelInventory } from '../validation/index.ts';
import {
  type GpuReading,
  metricsSampler,
  nvidiaSmiSampler,
  PeriodicCollector,
  type Readiness,
  readinessSampler,
} from './collectors/index.ts';
import type { MetricPreset } from './metric-presets.ts';
import {
  DEFAULT_PUBLISH_POLICY,
  PublishPolicy,
  type PublishPolicyOptions,
} from './publish-policy.ts';
import type { ScrapeReading } from './read-signals.ts';
import { type Assessment, ReplicaStateMachine } from './replica-state.ts';
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
  /** The model server's Prometheus endpoint. */
  readonly metrics?: {
    readonly url: string;
    readonly preset: MetricPreset;
    readonly intervalMs: number;
    readonly timeoutMs: number;
  };
  /** The model server's readiness URL (200 = ready). */
  readonly readiness?: {
    readonly url: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
  };
  /** nvidia-smi binary; `null` to skip GPU signals. */
  readonly nvidiaSmi?: { readonly binary: string; readonly intervalMs: number } | null;
  /** Configured models (reported, and the readiness fallback when no probe is configured). */
  readonly models: ModelInventory;
  /** Applied rule versions per tenant, and whether they are stale. */
  readonly rules: () => {
    readonly versions: Readonly<Record<string, number>>;
    readonly stale: boolean;
  };
  /** True once the sidecar is stopping. */
  readonly draining: () => boolean;
  /** Where reports go (the MQTT topic, in the sidecar). */
  readonly publish: (report: SaturationReport) => void;
  /** Told about every collector sample, good or failed (for metrics). */
  readonly onCollectorUpdate?: (collector: string, state: { error?: string; at?: number }) => void;
}

/**
 * Collects a replica's signals (model-server metrics, readiness, GPU, load pushed by the server),
 * turns them into a state and score every `evaluateMs`, and publishes a report when the
 * {@linkcode PublishPolicy} says so. A failing collector degrades only its own signal.
 */
export class SaturationMonitor {
  private readonly machine: ReplicaStateMachine;
  private readonly policy: PublishPolicy;
  private readonly metrics: PeriodicCollector<ScrapeReading> | null;
  private readonly readiness: PeriodicCollector<Readiness> | null;
  private readonly gpu: PeriodicCollector<GpuReading[]> | null;
  private pushed: Signals = {};
  private timer: TimerHandle | null = null;
  private seq = 0;
  private lastReport: SaturationReport | null = null;
  private lastAssessment: Assessment | null = null;
  private readonly listeners = new Set<(report: SaturationReport) => void>();
  private readonly failed = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly options: SaturationMonitorOptions) {
    const { clock } = options;
    this.log = options.logger ?? silentLogger;
    this.machine = new ReplicaStateMachine(clock, options.thresholds ?? DEFAULT_THRESHOLDS);
    this.policy = new PublishPolicy(options.publishPolicy ?? DEFAULT_PUBLISH_POLICY);
    const m = options.metrics;
    this.metrics = m
      ? new PeriodicCollector({
          name: 'metrics',
          sample: metricsSampler(m.url, m.preset, m.timeoutMs, () => clock.now()),
          intervalMs: m.intervalMs,
          clock,
          onUpdate: (s) => {
            this.logFailure('metrics', s);
            options.onCollectorUpdate?.('metrics', s);
            // A fresh scrape is judged at once rather than on the next evaluation tick.
            if (this.timer !== null) this.evaluate();
          },
        })
      : null;
    const r = options.readiness;
    this.readiness = r
      ? new PeriodicCollector({
          name: 'readiness',
          sample: readinessSampler({ url: r.url, timeoutMs: r.timeoutMs }),
          intervalMs: r.intervalMs,
          clock,
          onUpdate: (s) => options.onCollectorUpdate?.('readiness', s),
        })
      : null;
    const g = options.nvidiaSmi;
    this.gpu = g
      ? new PeriodicCollector({
          name: 'nvidia-smi',
          sample: nvidiaSmiSampler(g.binary),
          intervalMs: g.intervalMs,
          clock,
          onUpdate: (s) => {
            // No nvidia-smi on this host: the GPU signal is simply absent from now on.
            if (s.error?.includes('not installed')) this.gpu?.stop();
            else options.onCollectorUpdate?.('nvidia-smi', s);
          },
        })
      : null;
  }

  /** Starts the collectors and the evaluation loop. */
  start(): void {
    this.metrics?.start();
    this.readiness?.start();
    this.gpu?.start();
    this.loop();
  }

  /** Stops everything. Idempotent. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.metrics?.stop();
    this.readiness?.stop();
    this.gpu?.stop();
  }

  /** Applies new thresholds from a config reload. @throws {RangeError} when inconsistent. */
  setThresholds(thresholds: Thresholds): void {
    this.machine.setThresholds(thresholds);
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
    const signals = this.signals();
    const readiness = this.readiness?.current.value;
    const models = this.options.models.list();
    const rules = this.options.rules();
    const assessment = this.machine.update({
      healthy: this.readiness === null ? true : (readiness?.healthy ?? false),
      ready:
        this.readiness === null
          ? models.length === 0 || models.some((m) => m.ready)
          : (readiness?.ready ?? false),
      rulesStale: rules.stale,
      draining: this.options.draining(),
      signals,
      ...(this.metrics?.current.value?.latencyTotals
        ? { completed: this.metrics.current.value.latencyTotals.count }
        : {}),
    });
    this.lastAssessment = assessment;
    const ages = Object.values(signals).map((s) => now - s.at);
    const report: SaturationReport = {
      ...this.baseReport(),
      state: assessment.state,
      score: assessment.score,
      ...(signals.queue ? { queue: signals.queue.value } : {}),
      ...(signals.running ? { running: signals.running.value } : {}),
      ...(signals.kvCache ? { kvCache: Math.min(1, Math.max(0, signals.kvCache.value)) } : {}),
      ...(signals.gpu ? { gpu: signals.gpu.value } : {}),
      ...(signals.latency ? { latencyMs: signals.latency.value } : {}),
      ...(ages.length > 0 ? { signalAgeMs: Math.max(...ages) } : {}),
      ...(assessment.raw.stale.length > 0 ? { stale: assessment.raw.stale } : {}),
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
    const out: Array<{ collector: string; ageSeconds: number }> = [];
    for (const [collector, c] of [
      ['metrics', this.metrics],
      ['readiness', this.readiness],
      ['nvidia-smi', this.gpu],
    ] as const) {
      const at = c?.current.at;
      if (at !== undefined) out.push({ collector, ageSeconds: (now - at) / 1000 });
    }
    return out;
  }

  /** The last assessment, for status output. */
  get assessment(): Assessment | null {
    return this.lastAssessment;
  }

  private signals(): Signals {
    const scraped = this.metrics?.current.value?.signals ?? {};
    // The busiest GPU that reports utilization (MIG instances do not: no GPU signal then).
    const utilizations = (this.gpu?.current.value ?? []).flatMap((g) =>
      g.utilization === undefined ? [] : [g.utilization],
    );
    const gpuAt = this.gpu?.current.at;
    const gpu =
      utilizations.length > 0 && gpuAt !== undefined
        ? { gpu: { value: Math.max(...utilizations), at: gpuAt } }
        : {};
    // Pushed load wins over a scrape when it is fresher.
    const merged: Record<string, Signals['queue']> = { ...scraped, ...gpu };
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
      ...(models.length > 0
        ? { models: models.map((m) => ({ id: m.id, version: m.version, ready: m.ready })) }
        : {}),
      ruleVersions: this.options.rules().versions,
    };
  }

  private loop(): void {
    this.evaluate();
    this.timer = this.options.clock.setTimeout(() => this.loop(), this.options.evaluateMs ?? 100);
  }

  private logFailure(name: string, state: { error?: string; consecutiveFailures: number }): void {
    if (state.error && state.consecutiveFailures === 1)
      this.log.warn('collector failing', { collector: name, error: state.error });
    if (!state.error && state.consecutiveFailures === 0 && this.failed.has(name))
      this.log.info('collector recovered', { collector: name });
    if (state.error) this.failed.add(name);
    else this.failed.delete(name);
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
