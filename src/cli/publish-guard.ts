import type { MqttConnectionOptions } from '../mqtt/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';
import { watchFleet } from './fleet-watch.ts';
import type { RetainedRules } from './rollout-view.ts';

/**
 * Why publishing `version` would take the tenant backwards, or `null`: it is older than what a
 * replica runs, or than the retained set unless every replica refused that one (every replica
 * would refuse it as VERSION_REGRESSION, and a host that starts later would apply it while the
 * fleet runs the newer one). Pure.
 */
export function regressionOf(
  version: number,
  topic: string,
  retained: RetainedRules | null,
  acks: readonly AckDocument[],
): string | null {
  const running = acks.map((a) => a.activeVersion ?? 0);
  const newestRun = Math.max(0, ...running);
  // A retained set every replica refused (a bad or tampered one) is no floor: replacing it is
  // the fix. Until a replica has judged it, it is.
  const refusedByAll =
    acks.length > 0 &&
    acks.every(
      (a) =>
        a.status === 'rejected' &&
        (a.receivedVersion === null || a.receivedVersion === retained?.version),
    );
  const retainedVersion = refusedByAll ? 0 : (retained?.version ?? 0);
  if (version >= newestRun && version >= retainedVersion) return null;
  const seen = [
    ...(retainedVersion > version ? [`v${retainedVersion} is retained on ${topic}`] : []),
    ...(newestRun > version
      ? [
          `${running.filter((v) => v === newestRun).length} of ${acks.length} replica(s) run v${newestRun}`,
        ]
      : []),
  ];
  return `v${version} is older than what the tenant has (${seen.join('; ')}): every replica would refuse it (VERSION_REGRESSION) and a host that starts later would take v${version}. Publish a version above ${Math.max(newestRun, retainedVersion)}, or add --force`;
}

/**
 * {@linkcode regressionOf} for what the broker holds now (one second to hear retained messages);
 * `null` too when the broker cannot be reached.
 */
export async function regressionOnBroker(options: {
  readonly connection: MqttConnectionOptions;
  readonly prefix: string;
  readonly tenant: string;
  readonly version: number;
  readonly topic: string;
  readonly connectTimeoutMs: number;
}): Promise<string | null> {
  const fleet = await watchFleet(options);
  try {
    // Unreachable: the publish that follows fails with the broker's own reason.
    if (!fleet.connected) return null;
    return regressionOf(options.version, options.topic, fleet.watch.rules, fleet.watch.allAcks());
  } finally {
    await fleet.stop();
  }
}
