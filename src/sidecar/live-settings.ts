import type { HealthState } from '../api/index.ts';
import { type Config, configDifferences } from '../config/index.ts';
import type { StaticModelInventory } from '../inventory/index.ts';
import type { Logger } from '../log/index.ts';
import type { RuleFollower } from '../rule-stream/index.ts';
import type { SaturationMonitor } from '../saturation/index.ts';
import type { DriftMonitor } from './drift-monitor.ts';

/** The running parts a reload may touch (the follower only once started). */
export interface LiveParts {
  readonly log: Logger;
  readonly models: StaticModelInventory;
  readonly drift: DriftMonitor | null;
  readonly monitor: SaturationMonitor;
  readonly health: HealthState;
  readonly follower: RuleFollower | null;
}

/** A config field that a reload (SIGHUP) applies while running, and how. */
export interface LiveSetting {
  /** Dotted config path, as {@linkcode configDifferences} names changes. */
  readonly path: string;
  /** Makes the running parts follow `next`. */
  readonly apply: (parts: LiveParts, next: Config) => void | Promise<void>;
}

/**
 * Every setting a reload applies live — the one list: a changed path under one of these is
 * applied, any other change waits for a restart. `rules.maxAgeSeconds` needs no action: rule
 * freshness reads the config in effect on every evaluation.
 */
export const LIVE_SETTINGS: readonly LiveSetting[] = [
  { path: 'log', apply: (p, next) => p.log.setLevel(next.log.level) },
  {
    path: 'models',
    apply: (p, next) => {
      p.models.replace(next.models);
      p.drift?.check();
    },
  },
  {
    // New tenants are restored from disk, then subscribed; dropped ones keep their rules loaded.
    path: 'rules.tenants',
    apply: async (p, next) => {
      await p.follower?.followTenants(next.rules.tenants);
      p.health.setTenants(next.rules.tenants);
    },
  },
  { path: 'rules.maxAgeSeconds', apply: () => {} },
  {
    path: 'saturation.thresholds',
    apply: (p, next) => p.monitor.setThresholds(next.saturation.thresholds),
  },
];

/** What a config reload does: dotted paths applied live, and those that need a restart. */
export interface ReloadOutcome {
  readonly applied: readonly string[];
  readonly needsRestart: readonly string[];
}

/** The live settings a move from `current` to `next` touches, and the outcome to report. Pure. */
export function planReload(
  current: Config,
  next: Config,
): ReloadOutcome & { readonly live: readonly LiveSetting[]; readonly changed: readonly string[] } {
  const changed = configDifferences(current, next);
  const live = LIVE_SETTINGS.filter((s) => changed.some((path) => isUnder(path, s.path)));
  const applied = changed.filter((path) => live.some((s) => isUnder(path, s.path)));
  const needsRestart = changed.filter((path) => !applied.includes(path));
  return { live, changed, applied, needsRestart };
}

function isUnder(path: string, setting: string): boolean {
  return path === setting || path.startsWith(`${setting}.`);
}

/** `current` with the value at each live setting's path taken from `next`. Pure. */
export function withLiveSettings(current: Config, next: Config): Config {
  let merged = current as unknown as Record<string, unknown>;
  for (const { path } of LIVE_SETTINGS)
    merged = replaceAt(merged, path.split('.'), valueAt(next, path));
  return merged as unknown as Config;
}

function valueAt(config: Config, path: string): unknown {
  let node: unknown = config;
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
  return node;
}

function replaceAt(
  node: Record<string, unknown>,
  [head, ...rest]: readonly string[],
  value: unknown,
): Record<string, unknown> {
  if (head === undefined) return node;
  const child =
    rest.length === 0 ? value : replaceAt(node[head] as Record<string, unknown>, rest, value);
  return { ...node, [head]: child };
}
