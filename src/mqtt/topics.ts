/**
 * MQTT topic names, all under a configurable prefix (default `filament/v1`).
 * Tenant, replica and cluster names are restricted (lower-case letters, digits, `.`, `_`, `-`)
 * so they can never contain `/`, `+` or `#`.
 */

/** Default topic prefix. */
export const DEFAULT_TOPIC_PREFIX = 'filament/v1';

/** `{prefix}/rules/{tenant}`: retained rule set of one tenant. */
export function rulesTopic(prefix: string, tenant: string): string {
  return `${prefix}/rules/${tenant}`;
}

/**
 * `{prefix}/rules/{tenant}/full`: retained, the complete newest rule set when deltas are
 * published (docs/rule-deltas.md); a host takes it only when it cannot apply a delta.
 */
export function rulesFullTopic(prefix: string, tenant: string): string {
  return `${rulesTopic(prefix, tenant)}/full`;
}

/** `{prefix}/acks/{tenant}/{replica}`: retained ACK/NACK of one replica for one tenant. */
export function ackTopic(prefix: string, tenant: string, replica: string): string {
  return `${prefix}/acks/${tenant}/${replica}`;
}

/** The tenant named by a rules topic, or `undefined` when `topic` is not one under `prefix`. */
export function tenantOfRulesTopic(prefix: string, topic: string): string | undefined {
  const head = `${prefix}/rules/`;
  if (!topic.startsWith(head)) return undefined;
  const tenant = topic.slice(head.length);
  return tenant.length > 0 && !tenant.includes('/') ? tenant : undefined;
}

/** `{prefix}/replicas/{cluster}/{replica}`: retained SaturationReport of one replica. */
export function replicaTopic(prefix: string, cluster: string, replica: string): string {
  return `${prefix}/replicas/${cluster}/${replica}`;
}

/** Whether `topic` matches the MQTT topic filter `filter` (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
