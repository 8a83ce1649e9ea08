import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { REPLICA_STATES, type ReplicaState } from '../report/index.ts';

/** Live values read at scrape time (so gauges never go stale between events). */
export interface MetricsSources {
  readonly tenants: () => ReadonlyArray<{
    tenant: string;
    activeVersion: number | null;
    highWater: number;
    /** The active version is on disk (false while a full or read-only disk refuses it). */
    persisted: boolean;
    /** What this host can serve of the active version now (`null`: no rules). */
    serving?: { objectives: number; unservableObjectives: number } | null;
  }>;
  readonly brokerConnected: () => boolean;
  /** Trusted signing keys; 0 means rule sets are not signature-checked. */
  readonly trustedKeys: () => number;
  readonly saturation: () => { state: ReplicaState; score: number } | null;
  readonly collectorAges: () => ReadonlyArray<{ collector: string; ageSeconds: number }>;
  /**
   * What the model server says it has loaded, when filament asks it: whether that is confirmed
   * now, and how many models (adapters included) it lists. `null` with a static `[[models]]` list.
   */
  /** Who this is: one `filament_info` series, to join cluster-wide views on. */
  readonly identity?: () => { replica: string; cluster: string; version: string };
  readonly inventory?: () => {
    confirmed: boolean;
    models: number;
    /** Expected models (`[[models]]`) the server does not have as expected. */
    drift: ReadonlyArray<{ id: string; problem: string }>;
  } | null;
}

/** How long the process metrics are reused between scrapes, ms. */
const PROCESS_METRICS_TTL_MS = 5_000;

/**
 * prom-client's default metrics that are dropped: the `_total`-suffixed gauges (promtool rejects
 * them; they count libuv handles, which say little about a Bun process), and V8's heap-space
 * statistics, which cost ≈ 40 ms of event loop per scrape on Bun with a large heap (an outside
 * probe saw ten scrapers hold the sidecar at 75 % CPU) and describe V8's spaces, not JSC's.
 */
const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
];

/**
 * filament's Prometheus metrics on a registry of their own (never prom-client's global one),
 * plus the process metrics prom-client collects, on a second registry whose text is reused for
 * {@linkcode PROCESS_METRICS_TTL_MS} (reading /proc and the heap on every scrape is what made
 * scrapes expensive). Event counters are incremented by the sidecar; gauges read
 * {@linkcode MetricsSources} when scraped.
 */
export class SidecarMetrics {
  readonly registry = new Registry();
  private readonly processRegistry = new Registry();
  private processText: { text: string; at: number } | null = null;
  readonly ruleMessages: Counter<'tenant' | 'status'>;
  readonly ruleRejections: Counter<'tenant' | 'code'>;
  readonly brokerReconnects: Counter;
  readonly sessionTakeovers: Counter;
  readonly validations: Counter<'result'>;
  readonly validationSeconds: Histogram;
  readonly reportsPublished: Counter;
  readonly collectorFailures: Counter<'collector'>;
  readonly signalCorrections: Counter<'signal'>;
  readonly canaryFirstLatency: Gauge;
  readonly streamsCancelled: Counter<'method' | 'reason'>;
  readonly connectionsRefused: Counter<'listener' | 'reason'>;
  readonly inventoryPolls: Counter<'outcome'>;
  readonly inventoryChanges: Counter;
  readonly agentChecks: Counter;
  readonly checkAnswers: Counter<'verdict' | 'reason' | 'tenant'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.processRegistry, prefix: 'filament_' });
    for (const name of DROPPED_DEFAULT_METRICS)
      this.processRegistry.removeSingleMetric(`filament_${name}`);
    this.ruleMessages = new Counter({
      name: 'filament_rule_messages_total',
      help: 'Rule messages received, by tenant and outcome (applied, unchanged, rejected).',
      labelNames: ['tenant', 'status'],
      registers,
    });
    this.ruleRejections = new Counter({
      name: 'filament_rule_rejections_total',
      help: 'Rule messages refused, by tenant and rejection code.',
      labelNames: ['tenant', 'code'],
      registers,
    });
    this.brokerReconnects = new Counter({
      name: 'filament_broker_reconnects_total',
      help: 'Connections to the broker after the first.',
      registers,
    });
    this.sessionTakeovers = new Counter({
      name: 'filament_broker_session_takeovers_total',
      help: 'Times another client with our client id took the broker session (two sidecars with one replica name).',
      registers,
    });
    this.streamsCancelled = new Counter({
      name: 'filament_api_streams_cancelled_total',
      help: 'gRPC streams reset because the client left responses unread (RESOURCE_EXHAUSTED), by method.',
      labelNames: ['method', 'reason'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'filament_api_connections_refused_total',
      help: 'API connections closed by the limits: too_many_connections, handshake_timeout.',
      labelNames: ['listener', 'reason'],
      registers,
    });
    this.validations = new Counter({
      name: 'filament_validations_total',
      help: 'Requests validated, by result (ok, or the reason code).',
      labelNames: ['result'],
      registers,
    });
    this.validationSeconds = new Histogram({
      name: 'filament_validation_duration_seconds',
      help: 'Time to validate one request (metadata and, when checked, payload).',
      buckets: [1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2],
      registers,
    });
    this.reportsPublished = new Counter({
      name: 'filament_saturation_reports_total',
      help: 'Saturation reports published.',
      registers,
    });
    this.collectorFailures = new Counter({
      name: 'filament_collector_failures_total',
      help: 'Failed samples, by collector (metrics, readiness, nvidia-smi).',
      labelNames: ['collector'],
      registers,
    });
    this.canaryFirstLatency = new Gauge({
      name: 'filament_canary_first_latency_seconds',
      help: "How long the canary that first proved the model server can serve took (a cold start's cost).",
      registers,
    });
    this.signalCorrections = new Counter({
      name: 'filament_signal_corrections_total',
      help: 'Samples in which the model server reported an impossible value (NaN, negative, a cache use above 1), by signal; the value was bounded or dropped.',
      labelNames: ['signal'],
      registers,
    });
    new Gauge({
      name: 'filament_rules_active_version',
      help: 'Version of the active rule set per tenant (0: none).',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.tenants()) this.set({ tenant: t.tenant }, t.activeVersion ?? 0);
      },
    });
    new Gauge({
      name: 'filament_rules_high_water_version',
      help: 'Highest rule version ever applied per tenant.',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.tenants()) this.set({ tenant: t.tenant }, t.highWater);
      },
    });
    new Gauge({
      name: 'filament_rules_persisted',
      help: '1 when the active rule set is on disk as last-known-good; 0 while saving it fails (retried).',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.tenants()) this.set({ tenant: t.tenant }, t.persisted ? 1 : 0);
      },
    });
    new Gauge({
      name: 'filament_objectives_routed_here',
      help: "Objectives of the tenant's active rule set with a target routed to this host's cluster.",
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.tenants())
          if (t.serving) this.set({ tenant: t.tenant }, t.serving.objectives);
      },
    });
    new Gauge({
      name: 'filament_objectives_unservable',
      help: 'Of those, objectives with a target this host cannot serve now (a model, revision or adapter not loaded here).',
      labelNames: ['tenant'],
      registers,
      collect() {
        this.reset();
        for (const t of sources.tenants())
          if (t.serving) this.set({ tenant: t.tenant }, t.serving.unservableObjectives);
      },
    });
    new Gauge({
      name: 'filament_rules_trusted_keys',
      help: 'Ed25519 keys rule sets must be signed with; 0 = rule sets are NOT signature-checked.',
      registers,
      collect() {
        this.set(sources.trustedKeys());
      },
    });
    new Gauge({
      name: 'filament_broker_connected',
      help: '1 while connected to a broker.',
      registers,
      collect() {
        this.set(sources.brokerConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'filament_saturation_score',
      help: 'Smoothed saturation score of this replica, 0 (idle) to 1 (full).',
      registers,
      collect() {
        const s = sources.saturation();
        if (s) this.set(s.score);
      },
    });
    new Gauge({
      name: 'filament_saturation_state',
      help: 'Replica state: 1 for the current state, 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const s = sources.saturation();
        for (const state of REPLICA_STATES) this.set({ state }, s?.state === state ? 1 : 0);
      },
    });
    this.inventoryPolls = new Counter({
      name: 'filament_inventory_polls_total',
      help: 'Questions to the model server about what it has loaded, by outcome (ok, failed).',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'filament_info',
      help: "1, labelled with this sidecar's replica, cluster and version (join on it for cluster-wide views).",
      labelNames: ['replica', 'cluster', 'version'],
      registers,
      collect() {
        this.reset();
        const who = sources.identity?.();
        if (who) this.set(who, 1);
      },
    });
    this.agentChecks = new Counter({
      name: 'filament_agent_checks_total',
      help: 'HAProxy agent-check connections answered.',
      registers,
    });
    this.checkAnswers = new Counter({
      name: 'filament_check_answers_total',
      help: 'Requests the HTTP check endpoint answered, by verdict (allow, unchecked, elsewhere, refused, malformed, error), reason code and tenant (a followed tenant, "other", or "none" when no carrier was read).',
      labelNames: ['verdict', 'reason', 'tenant'],
      registers,
    });
    this.inventoryChanges = new Counter({
      name: 'filament_inventory_changes_total',
      help: 'Changes in what the model server has loaded (or in whether that is confirmed).',
      registers,
    });
    new Gauge({
      name: 'filament_inventory_confirmed',
      help: '1 while the model server has answered what it has loaded recently enough to trust; 0 = its models are refused (INVENTORY_UNCONFIRMED).',
      registers,
      collect() {
        const i = sources.inventory?.();
        if (i) this.set(i.confirmed ? 1 : 0);
      },
    });
    new Gauge({
      name: 'filament_inventory_drift',
      help: 'Models [[models]] says this host must serve that the server does not have as expected (1 each, by problem: missing, other-revision, not-ready); the replica is UNHEALTHY meanwhile.',
      labelNames: ['model', 'problem'],
      registers,
      collect() {
        this.reset();
        for (const d of sources.inventory?.()?.drift ?? [])
          this.set({ model: d.id, problem: d.problem }, 1);
      },
    });
    new Gauge({
      name: 'filament_inventory_models',
      help: 'Models and adapters the model server lists as loaded.',
      registers,
      collect() {
        const i = sources.inventory?.();
        if (i) this.set(i.models);
      },
    });
    new Gauge({
      name: 'filament_collector_age_seconds',
      help: 'Age of the last good sample, by collector.',
      labelNames: ['collector'],
      registers,
      collect() {
        this.reset();
        for (const c of sources.collectorAges()) this.set({ collector: c.collector }, c.ageSeconds);
      },
    });
  }

  /** The exposition text: filament's metrics as of now, the process metrics at most 5 s old. */
  async text(now = Date.now()): Promise<string> {
    const own = await this.registry.metrics();
    if (this.processText === null || now - this.processText.at >= PROCESS_METRICS_TTL_MS)
      this.processText = { text: await this.processRegistry.metrics(), at: now };
    return `${own}${this.processText.text}`;
  }
}
