import type { ValidateFunction } from 'ajv';
import { Packr } from 'msgpackr/pack';
import { type DecodeLimits, decodeMsgpack } from '../codec/index.ts';
import { formatViolation, toViolations } from '../json-schema/index.ts';
import type { ReplicaState, SignalName } from './replica-states.ts';
import { validate as generatedValidate } from './report.validator.generated.ts';

/** What a sidecar tells resolvers about its replica (see `report.schema.json` for the wire form). */
export interface SaturationReport {
  readonly replica: string;
  readonly cluster: string;
  readonly state: ReplicaState;
  /** Smoothed score, 0–1. */
  readonly score: number;
  readonly queue?: number;
  readonly running?: number;
  readonly kvCache?: number;
  readonly gpu?: number;
  /** Recent mean request latency, ms. */
  readonly latencyMs?: number;
  /** Requests the model server finished per second, recently. */
  readonly requestRate?: number;
  /** Requests it failed per second (its own fault), recently. */
  readonly errorRate?: number;
  /** The fullest GPU's memory in use, 0–1 (nvidia-smi). */
  readonly gpuMemory?: number;
  /** The host's CPU busy, 0–1 — reported only when `gpu` is unknown (no nvidia-smi). */
  readonly hostCpu?: number;
  /** The host's memory in use, 0–1 — reported only when `gpuMemory` is unknown. */
  readonly hostMemory?: number;
  /** Age of the oldest signal behind the score, ms. */
  readonly signalAgeMs?: number;
  readonly stale?: readonly SignalName[];
  readonly models?: ReadonlyArray<{
    readonly id: string;
    readonly version: string;
    readonly ready: boolean;
  }>;
  /** Applied rule version per tenant. */
  readonly ruleVersions?: Readonly<Record<string, number>>;
  /**
   * The seq and digest of the servable set this host last published
   * (`{prefix}/inventory/{cluster}/{replica}`): a resolver whose copy differs is out of date.
   */
  readonly inventory?: { readonly seq: number; readonly digest: string };
  /** Models this host must serve that its server does not have as expected (why it is UNHEALTHY). */
  readonly drift?: readonly string[];
  /** Hardware faults (a lost GPU, uncorrectable ECC errors…): why it is UNHEALTHY. */
  readonly faults?: readonly string[];
  /**
   * Routing keys its request-path check refused as "elsewhere" in the last minute, most refused
   * first (at most 16): a resolver stops sending a key to a host that keeps refusing it.
   */
  readonly refusals?: ReadonlyArray<{
    readonly tenant: string;
    readonly routingKey: string;
    readonly count: number;
  }>;
  /** The speed a throttled GPU lost, 0–1 (already in the score). */
  readonly throttled?: number;
  /**
   * Requests it takes at once (`saturation.max_concurrency`): a resolver counts each request it
   * sent since this report as 1/capacity more score. Absent: {@linkcode DEFAULT_CAPACITY}.
   */
  readonly capacity?: number;
  /**
   * How often it reports when nothing changes, ms; absent: {@linkcode DEFAULT_HEARTBEAT_MS} (the
   * wire leaves the default out).
   */
  readonly heartbeatMs?: number;
  readonly seq: number;
  /** ms since the epoch. */
  readonly at: number;
}

/** The capacity a resolver assumes for a report without one (the default max_concurrency). */
export const DEFAULT_CAPACITY = 64;
/** The heartbeat a report without one has (the default heartbeat_ms). */
export const DEFAULT_HEARTBEAT_MS = 5000;

const packr = new Packr({ useRecords: false, variableMapSize: true });
/** `report.schema.json`, compiled at build time (build/generate-validators.ts). */
const validateWire = generatedValidate as unknown as ValidateFunction;
const LIMITS: DecodeLimits = { maxBytes: 64 * 1024, maxDepth: 8 };

/** Encodes a report as a compact MessagePack map with short keys (typically well under 256 bytes). */
export function encodeReport(r: SaturationReport): Uint8Array {
  const wire: Record<string, unknown> = {
    v: 1,
    r: r.replica,
    c: r.cluster,
    s: r.state,
    sc: round(r.score),
  };
  if (r.queue !== undefined) wire.q = r.queue;
  if (r.running !== undefined) wire.run = r.running;
  if (r.kvCache !== undefined) wire.kv = round(r.kvCache);
  if (r.gpu !== undefined) wire.gpu = round(r.gpu);
  // 0.1 ms below 100 ms, whole ms above (a float there would cost 9 bytes for nothing).
  if (r.latencyMs !== undefined)
    wire.lat = r.latencyMs >= 100 ? Math.round(r.latencyMs) : Math.round(r.latencyMs * 10) / 10;
  if (r.requestRate !== undefined) wire.rps = round(r.requestRate);
  if (r.errorRate !== undefined) wire.eps = round(r.errorRate);
  if (r.gpuMemory !== undefined) wire.gm = round(r.gpuMemory);
  if (r.hostCpu !== undefined) wire.hc = round(r.hostCpu);
  if (r.hostMemory !== undefined) wire.hm = round(r.hostMemory);
  if (r.signalAgeMs !== undefined) wire.age = Math.round(r.signalAgeMs);
  if (r.stale !== undefined && r.stale.length > 0) wire.st = r.stale;
  if (r.models !== undefined && r.models.length > 0)
    wire.m = r.models.map((m) => [m.id, m.version, m.ready]);
  if (r.ruleVersions !== undefined) wire.rv = r.ruleVersions;
  if (r.inventory !== undefined) wire.inv = [r.inventory.seq, r.inventory.digest];
  if (r.drift !== undefined && r.drift.length > 0) wire.dr = r.drift;
  if (r.faults !== undefined && r.faults.length > 0) wire.hf = r.faults;
  if (r.refusals !== undefined && r.refusals.length > 0)
    wire.rf = r.refusals.map((x) => [x.tenant, x.routingKey, x.count]);
  if (r.throttled !== undefined) wire.thr = round(r.throttled);
  if (r.capacity !== undefined) wire.cap = r.capacity;
  if (r.heartbeatMs !== undefined && r.heartbeatMs !== DEFAULT_HEARTBEAT_MS)
    wire.hb = r.heartbeatMs;
  wire.seq = r.seq;
  wire.t = r.at;
  return packr.pack(wire);
}

/** Decodes an untrusted report; `{ error }` names what was wrong. */
export function decodeReport(bytes: Uint8Array): SaturationReport | { error: string } {
  const decoded = decodeMsgpack(bytes, LIMITS);
  if (!decoded.ok) return { error: `${decoded.error.kind}: ${decoded.error.message}` };
  const w = decoded.value as Record<string, unknown>;
  if (!validateWire(w)) {
    const [first] = toViolations(validateWire.errors, w);
    return { error: first ? formatViolation(first) : 'not a SaturationReport' };
  }
  const report: Record<string, unknown> = {
    replica: w.r,
    cluster: w.c,
    state: w.s,
    score: w.sc,
    seq: w.seq,
    at: w.t,
  };
  if (w.q !== undefined) report.queue = w.q;
  if (w.run !== undefined) report.running = w.run;
  if (w.kv !== undefined) report.kvCache = w.kv;
  if (w.gpu !== undefined) report.gpu = w.gpu;
  if (w.lat !== undefined) report.latencyMs = w.lat;
  if (w.rps !== undefined) report.requestRate = w.rps;
  if (w.eps !== undefined) report.errorRate = w.eps;
  if (w.gm !== undefined) report.gpuMemory = w.gm;
  if (w.hc !== undefined) report.hostCpu = w.hc;
  if (w.hm !== undefined) report.hostMemory = w.hm;
  if (w.age !== undefined) report.signalAgeMs = w.age;
  if (w.st !== undefined) report.stale = w.st;
  if (w.m !== undefined)
    report.models = (w.m as Array<[string, string, boolean]>).map(([id, version, ready]) => ({
      id,
      version,
      ready,
    }));
  if (w.rv !== undefined) report.ruleVersions = w.rv;
  if (w.dr !== undefined) report.drift = w.dr;
  if (w.hf !== undefined) report.faults = w.hf;
  if (w.rf !== undefined)
    report.refusals = (w.rf as Array<[string, string, number]>).map(
      ([tenant, routingKey, count]) => ({ tenant, routingKey, count }),
    );
  if (w.thr !== undefined) report.throttled = w.thr;
  if (w.cap !== undefined) report.capacity = w.cap;
  if (w.hb !== undefined) report.heartbeatMs = w.hb;
  if (w.inv !== undefined) {
    const [seq, digest] = w.inv as [number, string];
    report.inventory = { seq, digest };
  }
  return report as unknown as SaturationReport;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
