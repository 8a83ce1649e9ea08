import { DEFAULT_TOPIC_PREFIX } from '../mqtt/index.ts';
import { formatTable } from '../terminal-tables/index.ts';
import { CREDENTIAL_FLAGS, credentialsOrSay } from './broker-credentials.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { watchFleet } from './fleet-watch.ts';
import { BROKER_FLAGS, brokerFlag, parseFlags, protocolFlag } from './parse-flags.ts';
import {
  describeCluster,
  type GateSettings,
  newHostTakes,
  type RolloutView,
  rolloutGate,
} from './rollout-view.ts';

/**
 * `filament rules status --broker URL --tenant T [--cluster C] [--json] [--wait]
 * [--min-fraction F] [--max-nacks N] [--timeout 60s]`: where every replica following a tenant
 * stands against the retained rule version, from their retained ACKs and reports — what
 * `istioctl proxy-status` is to xDS — and what a new host would take. Exit 0 when the gate is met
 * (see {@linkcode rolloutGate}: live replicas, at least `--min-fraction` (default 1) of them on it,
 * at most `--max-nacks` (default 0) refusing it, none running a newer version); with `--wait`,
 * waits up to `--timeout` for that; else 1.
 */
export async function rulesStatus(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      ...BROKER_FLAGS,
      ...CREDENTIAL_FLAGS,
      tenant: { type: 'string' },
      cluster: { type: 'string' },
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      'min-fraction': { type: 'string' },
      'max-nacks': { type: 'string' },
      timeout: { type: 'string' },
    },
    'rules status',
  );
  const urls = brokerFlag(values.broker, 'rules status');
  const tenant = values.tenant;
  if (tenant === undefined) throw new UsageError('rules status: --tenant T is required');
  const minFraction = Number(values['min-fraction'] ?? 1);
  if (!(minFraction >= 0 && minFraction <= 1))
    throw new UsageError(
      `rules status: --min-fraction must be between 0 and 1, got "${values['min-fraction']}"`,
    );
  const maxNacks = Number(values['max-nacks'] ?? 0);
  if (!Number.isSafeInteger(maxNacks) || maxNacks < 0)
    throw new UsageError(
      `rules status: --max-nacks must be a whole number of replicas, got "${values['max-nacks']}"`,
    );
  const timeoutMs = parseDuration(values.timeout ?? '60s');
  const protocolVersion = protocolFlag(values.protocol, 'rules status');
  const credentials = await credentialsOrSay(values, 'rules status', io.err);
  if (credentials === null) return EXIT.failed;
  const prefix = values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX;
  const fleet = await watchFleet({
    connection: {
      urls,
      clientId: `filament-rules-status-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion,
      cleanSession: true,
      ...credentials,
    },
    prefix,
    tenant,
    ...(values.cluster !== undefined ? { cluster: values.cluster } : {}),
  });
  try {
    const deadline = Date.now() + (values.wait ? timeoutMs : 0);
    for (;;) {
      const view = fleet.watch.view(Date.now());
      const gate = rolloutGate(view, { minFraction, maxNacks });
      if (gate.met || Date.now() >= deadline) {
        if (!fleet.connected && view.rows.length === 0) {
          io.err(`rules status: cannot reach the broker at ${urls.join(', ')}`);
          return EXIT.failed;
        }
        const newHost = newHostTakes(fleet.watch.rules, fleet.watch.full);
        io.out(
          values.json
            ? JSON.stringify(
                { ...view, minFraction, maxNacks, met: gate.met, problems: gate.problems, newHost },
                null,
                2,
              )
            : render(view, { minFraction, maxNacks }, gate, newHost.how),
        );
        return gate.met ? EXIT.ok : EXIT.failed;
      }
      await sleep(250);
    }
  } finally {
    await fleet.stop();
  }
}

function render(
  view: RolloutView,
  settings: GateSettings,
  gate: { met: boolean; problems: readonly string[] },
  newHost: string,
): string {
  if (view.rows.length === 0)
    return `no replica has ACKed tenant "${view.tenant}" yet\na new host would take: ${newHost}`;
  const lines = [
    `tenant ${view.tenant}: ${view.target === null ? 'no rule set retained' : `rolling out v${view.target}`}`,
    ...view.clusters.map((c) => describeCluster(c, view.target)),
    `a new host would take: ${newHost}`,
    `${(view.fraction * 100).toFixed(1)} % on it (need ${(settings.minFraction * 100).toFixed(1)} %${settings.maxNacks > 0 ? `, ${settings.maxNacks} NACK(s) allowed` : ''}): ${gate.met ? 'met' : 'NOT met'}`,
    ...gate.problems.map((p) => `  - ${p}`),
    '',
    formatTable(
      ['replica', 'cluster', 'standing', 'active', 'nack', 'cannot serve', 'last ack', 'state'],
      view.rows.map((r) => [
        r.replica,
        r.cluster,
        r.standing,
        r.activeVersion === null ? '-' : `v${r.activeVersion}`,
        r.nack ? `v${r.nack.version ?? '?'} ${r.nack.code}` : '-',
        r.unservable ? `${r.unservable.objectives}/${r.unservable.of} objectives` : '-',
        `${Math.round(r.ackAgeMs / 1000)} s ago`,
        r.state ?? '-',
      ]),
    ),
  ];
  for (const r of view.rows) {
    if (r.nack)
      lines.push(`${r.replica}: NACK v${r.nack.version ?? '?'} ${r.nack.code}: ${r.nack.reason}`);
    if (r.unservable) lines.push(`${r.replica}: ${r.unservable.summary}`);
  }
  return lines.join('\n');
}

/** `60s`, `500ms`, `2m` or plain milliseconds. */
function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`rules status: --timeout must look like 60s, 500ms or 2m, got "${text}"`);
  const n = Number(match[1]);
  return match[2] === 's' ? n * 1000 : match[2] === 'm' ? n * 60_000 : n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
