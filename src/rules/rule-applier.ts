import { Buffer } from 'node:buffer';
import { isDeepStrictEqual } from 'node:util';
import type { DecodeLimits } from '../codec/index.ts';
import type { TrustRoot } from '../trust/index.ts';
import { changedElements, checkObjectiveChanges, type ElementChanges } from './check-changes.ts';
import { checkRuleSet } from './check-rule-set.ts';
import {
  type CompiledRuleSet,
  type CompileInput,
  compileObjectiveChanges,
  compileRuleSet,
} from './compile-rule-set.ts';
import { openAttested, openSigned } from './open-message.ts';
import { checkShape, parseRuleSet } from './parse-rule-set.ts';
import { PayloadSchemaCache } from './payload-schema-cache.ts';
import { type Rejection, reject } from './rejection.ts';
import { type PreparedCopies, parseRuleDelta, patchRuleSet } from './rule-delta.ts';
import { RuleSetDigester } from './rule-digest.ts';
import type { RuleStore } from './rule-store.ts';
import type { ObjectiveRule, RuleSet } from './types.ts';

/** What became of one rule message. */
export type ApplyOutcome =
  | {
      readonly status: 'applied';
      readonly version: number;
      readonly rules: CompiledRuleSet;
      readonly previousVersion: number | null;
    }
  | { readonly status: 'unchanged'; readonly version: number; readonly rules: CompiledRuleSet }
  | {
      readonly status: 'rejected';
      readonly version: number | null;
      readonly rejection: Rejection;
      readonly activeVersion: number | null;
    }
  | {
      /**
       * A delta this host cannot apply — it is not on the delta's base (a restart, a gap,
       * reordering), or signatures are required — so it must take the complete set instead
       * (`{prefix}/rules/{tenant}/full`). Nothing changed.
       */
      readonly status: 'needs-full';
      readonly version: number;
      readonly base: number;
      readonly activeVersion: number | null;
      readonly reason: string;
    };

/** Default for {@linkcode RuleApplierOptions.maxClockSkewMs}: five minutes. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000;

/** One rule message as it arrived. */
export interface RuleMessage {
  /** The tenant named by the topic (or the state file) it came from. */
  readonly tenant: string;
  readonly bytes: Uint8Array;
  /** MQTT 5 content type, when the publisher set one. */
  readonly contentType?: string;
  /**
   * For a complete set restored from disk that a delta made: that delta as it arrived (signed
   * when trust is on). It vouches for the set — its signature covers the result's digest — so a
   * set this host built from signed deltas is re-verified after a restart like a signed one.
   */
  readonly attestation?: Uint8Array;
}

/** Options for {@linkcode RuleApplier}. */
export interface RuleApplierOptions {
  readonly limits: DecodeLimits;
  /** Current time in ms since the epoch (for expiry, issue time and `appliedAt`). */
  readonly now: () => number;
  /**
   * How far ahead of `now` a set's `issuedAt` may be, ms (publishers' clocks are not this
   * host's). Default 300,000. Further ahead is refused: a set "issued" in the far future would
   * never go stale under `rules.max_age_seconds`, defeating freeze detection.
   */
  readonly maxClockSkewMs?: number;
  /**
   * The keys rule sets must be signed with. When set, only signed envelopes that meet its
   * threshold and carry `expiresAt` are applied; when absent, bare and signed sets are both
   * accepted and signatures are not checked.
   */
  readonly trust?: TrustRoot;
}

/**
 * The whole rule pipeline, free of I/O: decode → check shape → decide by version → check
 * references → compile → swap into the {@linkcode RuleStore}. A message that fails any step
 * leaves the active rules untouched. Persisting and acknowledging are the caller's job.
 */
export class RuleApplier {
  private readonly schemas: PayloadSchemaCache;
  /** Digests of applied sets, element hashes cached (a delta rehashes what it changed). */
  private readonly digester = new RuleSetDigester();
  /** Copies of active sets' arrays, made ahead for the next delta's patch (prepareForDelta). */
  private readonly copies: PreparedCopies = new WeakMap();

  private trust: TrustRoot | undefined;

  constructor(
    private readonly store: RuleStore,
    private readonly options: RuleApplierOptions,
  ) {
    this.schemas = new PayloadSchemaCache(options.limits.maxDepth);
    this.trust = options.trust;
  }

  /**
   * Readies the active set of `tenant` for a delta on top of it, off the hot path: hashes it a
   * little at a time (so the first delta after a full set finds its digest warm), then, on a later
   * turn of the event loop, copies its array sections for the next patch to write into. Call after
   * each set or delta is applied; resolves when done, and never rejects.
   */
  async prepareForDelta(tenant: string): Promise<void> {
    try {
      const active = this.store.active(tenant);
      if (active === undefined) return;
      await this.digester.warm(active.ruleSet);
      await new Promise((resolve) => setTimeout(resolve, 0));
      const { ruleSet } = active;
      if (this.store.active(tenant) !== active) return;
      for (const list of [ruleSet.schemas, ruleSet.models, ruleSet.objectives])
        if (Array.isArray(list) && !this.copies.has(list)) this.copies.set(list, list.slice());
    } catch {
      // Only a head start: the next delta hashes and copies what it needs itself, and reports
      // any failure there as its refusal. A rejected promise here would go unhandled.
    }
  }

  /** Replaces the trust root (`undefined`: signatures are not required nor checked). */
  setTrust(trust: TrustRoot | undefined): void {
    this.trust = trust;
  }

  /**
   * Processes one rule message. Never throws, whatever the input: a fault of filament's own while
   * applying it (a bug) is a refusal with code `INTERNAL` naming the error, and the rules in force
   * stay as they were.
   */
  apply(message: RuleMessage): ApplyOutcome {
    try {
      return this.applyChecked(message);
    } catch (error) {
      let activeVersion: number | null = null;
      try {
        activeVersion = this.store.active(message.tenant)?.version ?? null;
      } catch {
        // The message itself is broken (a getter that throws): nothing to read from it.
      }
      return {
        status: 'rejected',
        version: null,
        activeVersion,
        rejection: reject(
          'INTERNAL',
          '',
          `filament failed while applying this message (${error instanceof Error ? error.message : String(error)}); the rules in force are unchanged`,
        ),
      };
    }
  }

  private applyChecked(message: RuleMessage): ApplyOutcome {
    const active = this.store.active(message.tenant);
    const activeVersion = active?.version ?? null;
    const rejected = (rejection: Rejection, version: number | null = null): ApplyOutcome => ({
      status: 'rejected',
      version,
      rejection,
      activeVersion,
    });

    const opened =
      message.attestation === undefined
        ? openSigned(message, this.trust, this.options.limits)
        : openAttested(message, message.attestation, this.trust, this.options.limits);
    if (!opened.ok) return rejected(opened.rejection);
    const { bytes, contentType, signedBy, delta } = opened.value;
    if (delta) return this.applyDelta(message, bytes, signedBy, active, rejected);
    const parsed = parseRuleSet(bytes, this.options.limits, contentType);
    if (!parsed.ok) return rejected(parsed.rejection, parsed.claimedVersion);
    const { ruleSet, encoding } = parsed.value;
    const version = ruleSet.version;
    if (opened.value.digest !== undefined) {
      const digest = this.digester.digest(ruleSet);
      if (digest !== opened.value.digest.digest || version !== opened.value.digest.version)
        return rejected(
          reject(
            'DIGEST_MISMATCH',
            '',
            `the delta that vouches for this set made version ${opened.value.digest.version} with digest ${opened.value.digest.digest}; this is version ${version} with digest ${digest}`,
          ),
          version,
        );
    }
    if (this.trust !== undefined && ruleSet.expiresAt === undefined)
      return rejected(noExpiry(), version);

    if (ruleSet.tenant !== message.tenant) {
      return rejected(
        reject(
          'TENANT_MISMATCH',
          '/tenant',
          `rule set is for tenant "${ruleSet.tenant}" but arrived for "${message.tenant}"`,
        ),
        version,
      );
    }
    if (active !== undefined && version === active.version) {
      if (sameContent(active, message.bytes, ruleSet))
        return { status: 'unchanged', version, rules: active };
      return rejected(
        reject(
          'VERSION_CONFLICT',
          '/version',
          `version ${version} is already applied with different content; publish a new version`,
        ),
        version,
      );
    }
    const highWater = this.store.highWater(message.tenant);
    if (version < highWater) {
      return rejected(
        reject(
          'VERSION_REGRESSION',
          '/version',
          `version ${version} is older than version ${highWater}, already applied`,
        ),
        version,
      );
    }
    return this.checkAndInstall(
      {
        ruleSet,
        raw: message.bytes,
        encoding,
        ...(signedBy !== undefined ? { signedBy } : {}),
        ...(opened.value.madeBy !== undefined ? { madeBy: opened.value.madeBy } : {}),
      },
      activeVersion,
      rejected,
    );
  }

  /**
   * Applies a delta (docs/rule-deltas.md) on top of exactly its base version: patched with
   * structural sharing, checked against its digest, then through the same checks and compile as
   * a full set. A host not on the base — or one that requires signatures, which deltas do not
   * carry yet — answers `needs-full`, and nothing changes.
   */
  private applyDelta(
    message: RuleMessage,
    bytes: Uint8Array,
    signedBy: readonly string[] | undefined,
    active: CompiledRuleSet | undefined,
    rejected: (rejection: Rejection, version?: number | null) => ApplyOutcome,
  ): ApplyOutcome {
    const parsed = parseRuleDelta(bytes, this.options.limits);
    if (!parsed.ok) return rejected(parsed.rejection);
    const delta = parsed.value;
    const activeVersion = active?.version ?? null;
    if (delta.tenant !== message.tenant)
      return rejected(
        reject(
          'TENANT_MISMATCH',
          '/tenant',
          `delta is for tenant "${delta.tenant}" but arrived for "${message.tenant}"`,
        ),
        delta.version,
      );
    if (active !== undefined && active.version === delta.version)
      return this.digester.digest(active.ruleSet) === delta.digest
        ? { status: 'unchanged', version: delta.version, rules: active }
        : rejected(
            reject(
              'VERSION_CONFLICT',
              '/digest',
              `version ${delta.version} is already applied with a different digest; publish a new version`,
            ),
            delta.version,
          );
    const highWater = this.store.highWater(message.tenant);
    if (delta.version < highWater)
      return rejected(
        reject(
          'VERSION_REGRESSION',
          '/version',
          `version ${delta.version} is older than version ${highWater}, already applied`,
        ),
        delta.version,
      );
    const needsFull = (reason: string): ApplyOutcome => ({
      status: 'needs-full',
      version: delta.version,
      base: delta.base,
      activeVersion,
      reason,
    });
    if (active === undefined || active.version !== delta.base)
      return needsFull(
        `the delta applies to version ${delta.base}; this host has ${activeVersion === null ? 'none' : `version ${activeVersion}`}`,
      );
    const patched = patchRuleSet(active.ruleSet, delta, this.copies);
    if (!patched.ok) return rejected(patched.rejection, delta.version);
    const { ruleSet: result, touched } = patched.value;
    if (result.version !== delta.version || result.tenant !== delta.tenant)
      return rejected(
        reject(
          'BAD_PATCH',
          '/patch',
          `the patched set is version ${result.version} of "${result.tenant}", not version ${delta.version} of "${delta.tenant}"`,
        ),
        delta.version,
      );
    if (this.trust !== undefined && result.expiresAt === undefined)
      return rejected(noExpiry(), delta.version);
    // Only objectives and top-level fields changed (the common case): checked and compiled on what
    // changed alone. Otherwise the whole result goes through the checks of a full set.
    const base = active.ruleSet;
    const changes =
      result.schemas === base.schemas &&
      result.models === base.models &&
      Array.isArray(result.objectives)
        ? changedElements(base.objectives, result.objectives, touched.objectives)
        : undefined;
    if (changes === undefined) {
      const shape = checkShape(result);
      if (!shape.ok) return rejected(shape.rejection, delta.version);
    }
    const digest = this.digester.digest(result, base, touched);
    if (digest !== delta.digest)
      return rejected(
        reject(
          'DIGEST_MISMATCH',
          '/digest',
          `the patched set's digest is ${digest}, not ${delta.digest}: nothing changed`,
        ),
        delta.version,
      );
    return this.checkAndInstall(
      {
        ruleSet: result,
        // The complete set, serialised only when asked for (a snapshot of last-known-good).
        raw: () => new TextEncoder().encode(JSON.stringify(result)),
        encoding: 'json',
        ...(signedBy !== undefined ? { signedBy } : {}),
        madeBy: { message: message.bytes, signed: signedBy !== undefined, base: delta.base },
      },
      activeVersion,
      rejected,
      changes === undefined ? undefined : { base: active, changes },
    );
  }

  /** The checks after decoding, the compile and the swap, for a full set or a delta's result. */
  private checkAndInstall(
    input: Omit<CompileInput, 'appliedAt'>,
    activeVersion: number | null,
    rejected: (rejection: Rejection, version?: number | null) => ApplyOutcome,
    incremental?: {
      readonly base: CompiledRuleSet;
      readonly changes: ElementChanges<ObjectiveRule>;
    },
  ): ApplyOutcome {
    const { ruleSet } = input;
    const version = ruleSet.version;
    const problem =
      incremental === undefined
        ? checkRuleSet(ruleSet)
        : checkObjectiveChanges(ruleSet, incremental.base, incremental.changes);
    if (problem) return rejected(problem, version);
    const now = this.options.now();
    if (ruleSet.expiresAt !== undefined && Date.parse(ruleSet.expiresAt) <= now) {
      return rejected(
        reject('EXPIRED', '/expiresAt', `rule set expired at ${ruleSet.expiresAt}`),
        version,
      );
    }
    const skewMs = this.options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (Date.parse(ruleSet.issuedAt) > now + skewMs) {
      return rejected(
        reject(
          'ISSUED_IN_FUTURE',
          '/issuedAt',
          `issued at ${ruleSet.issuedAt}, more than ${skewMs / 1000} s ahead of this host's clock (${new Date(now).toISOString()}; rules.max_clock_skew_seconds)`,
        ),
        version,
      );
    }
    let rules: CompiledRuleSet;
    if (incremental === undefined) {
      const compiled = compileRuleSet({ ...input, appliedAt: now }, this.schemas);
      if (!compiled.ok) return rejected(compiled.rejection, version);
      rules = compiled.value;
    } else
      rules = compileObjectiveChanges(
        { ...input, appliedAt: now },
        incremental.base,
        incremental.changes,
      );
    this.store.install(rules);
    if (incremental === undefined) this.schemas.retain(this.keptValidators());
    return { status: 'applied', version, rules, previousVersion: activeVersion };
  }

  private *keptValidators() {
    for (const rules of this.store.kept())
      for (const schema of rules.payloadSchemas.values()) yield schema.validate;
  }
}

function noExpiry(): Rejection {
  return reject(
    'NO_EXPIRY',
    '/expiresAt',
    'signed rule sets must carry expiresAt, so a withheld update cannot freeze hosts on old rules',
  );
}

function sameContent(active: CompiledRuleSet, bytes: Uint8Array, ruleSet: RuleSet): boolean {
  const raw = active.raw;
  if (raw.byteLength === bytes.byteLength && Buffer.compare(raw, bytes) === 0) return true;
  // The same set may arrive in the other encoding, or re-serialised: compare what it says.
  return isDeepStrictEqual(active.ruleSet, ruleSet);
}
