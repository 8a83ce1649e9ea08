import type { MqttConnectionOptions } from '../mqtt/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';
import { watchFleet } from './fleet-watch.ts';
import type { RetainedRules } from './rollout-view.ts';

/**
 * Why publishing `version` would take the tenant backwards, or `null`: it is older than the
 * retained set or than what a replica runs (every replica would refuse it as VERSION_REGRESSION,
 * and a host that starts later would apply it while the fleet runs the newer one). Pure.
 */
export function regressionOf(
  version: number,
  topic: string,
  retained: RetainedRules | null,
  acks: readonly AckDocument[],
): string | null {
  const running = acks.map((a) => a.activeVersion ?? 0);
  const newestRun = Math.max(0, ...running);
  const retainedVersion = retained?.version ?? 0;
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

/** {@linkcode regressionOf} for what the broker holds now (one second to hear retained messages). */
export async function regressionOnBroker(options: {
  readonly connection: MqttConnectionOptions;
  readonly prefix: string;
  readonly tenant: string;
  readonly version: number;
  readonly topic: string;
}): Promise<string | null> {
  const fleet = await watchFleet(options);
  try {
    if (!fleet.connected)
      return `cannot reach the broker to check what the tenant runs (add --force to publish without the check)`;
    return regressionOf(options.version, options.topic, fleet.watch.rules, fleet.watch.allAcks());
  } finally {
    await fleet.stop();
  }
}
