import { contentTypeOf, decodeDocument } from '../codec/index.ts';
import { CONFIG_DEFAULTS } from '../config/index.ts';
import {
  DEFAULT_TOPIC_PREFIX,
  type InboundMessage,
  MqttConnection,
  rulesTopic,
} from '../mqtt/index.ts';
import { decodeReport, type ReplicaState } from '../report/index.ts';
import type { AckDocument } from '../rule-stream/index.ts';
import { claimedVersion, readEnvelope } from '../rules/index.ts';
import { formatTable } from '../terminal-tables/index.ts';
import { CREDENTIAL_FLAGS, credentialsOrSay } from './broker-credentials.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { BROKER_FLAGS, brokerFlag, parseFlags, protocolFlag } from './parse-flags.ts';
import { describeCluster, type RolloutView, rolloutView } from './rollout-view.ts';

/**
 * `filament rules status --broker URL --tenant T [--cluster C] [--json] [--wait]
 * [--min-fraction F] [--timeout 60s]`: where every replica following a tenant stands against the
 * retained rule version, from their retained ACKs and reports — what `istioctl proxy-status` is
 * to xDS. Exit 0 when at least `--min-fraction` (default 1) of the replicas that count are on it;
 * with `--wait`, waits up to `--timeout` for that; else 1.
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
  const timeoutMs = parseDuration(values.timeout ?? '60s');
  const protocolVersion = protocolFlag(values.protocol, 'rules status');
  const credentials = await credentialsOrSay(values, 'rules status', io.err);
  if (credentials === null) return EXIT.failed;
  const prefix = values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX;
  const watch = new RolloutWatch(tenant, values.cluster);
  const connection = new MqttConnection({
    urls,
    clientId: `filament-rules-status-${Math.random().toString(16).slice(2, 10)}`,
    protocolVersion,
    cleanSession: true,
    ...credentials,
  });
  connection.subscribe(rulesTopic(prefix, tenant), async (m) => watch.rules(m));
  connection.subscribe(`${prefix}/acks/${tenant}/+`, async (m) => watch.ack(m));
  connection.subscribe(`${prefix}/replicas/+/+`, async (m) => watch.report(m));
  connection.start();
  try {
    const deadline = Date.now() + (values.wait ? timeoutMs : 0);
    // Retained messages arrive right after subscribing; give them a moment, then judge.
    await sleep(1000);
    const connected = connection.status().state === 'connected';
    for (;;) {
      const view = watch.view(Date.now());
      const met = view.rows.some((r) => r.standing !== 'offline') && view.fraction >= minFraction;
      if (met || Date.now() >= deadline) {
        if (!connected && view.rows.length === 0) {
          io.err(`rules status: cannot reach the broker at ${urls.join(', ')}`);
          return EXIT.failed;
        }
        io.out(
          values.json
            ? JSON.stringify({ ...view, minFraction, met }, null, 2)
            : render(view, minFraction, met),
        );
        return met ? EXIT.ok : EXIT.failed;
      }
      await sleep(250);
    }
  } finally {
    await connection.stop();
  }
}

/** What the command has heard: the retained version, each replica's ACK and saturation state. */
class RolloutWatch {
  private target: number | null = null;
  private readonly acks = new Map<string, AckDocument>();
  private readonly states = new Map<string, ReplicaState>();

  constructor(
    private readonly tenant: string,
    private readonly cluster: string | undefined,
  ) {}

  rules(message: InboundMessage): void {
    this.target = versionOf(message);
  }

  ack(message: InboundMessage): void {
    try {
      const ack = JSON.parse(new TextDecoder().decode(message.payload)) as AckDocument;
      if (typeof ack?.replica === 'string' && ack.tenant === this.tenant)
        this.acks.set(`${ack.cluster}/${ack.replica}`, ack);
    } catch {
      // Not an ACK: ignored, like any stranger on the topic.
    }
  }

  report(message: InboundMessage): void {
    if (message.payload.byteLength === 0) return;
    const report = decodeReport(message.payload);
    if (!('error' in report)) this.states.set(`${report.cluster}/${report.replica}`, report.state);
  }

  view(now: number): RolloutView {
    return rolloutView({
      tenant: this.tenant,
      target: this.target,
      acks: [...this.acks.values()],
      states: this.states,
      now,
      ...(this.cluster !== undefined ? { cluster: this.cluster } : {}),
    });
  }
}

/** The version a retained rule message names (inside its envelope when signed), or `null`. */
function versionOf(message: InboundMessage): number | null {
  const limits = {
    maxBytes: CONFIG_DEFAULTS.rules.max_message_bytes,
    maxDepth: CONFIG_DEFAULTS.rules.max_depth,
  };
  const envelope = readEnvelope(
    { bytes: message.payload, contentType: message.contentType },
    limits,
  );
  if (envelope !== null && 'rejection' in envelope) return null;
  const decoded = envelope
    ? decodeDocument(envelope.payload, limits, contentTypeOf(envelope.encoding))
    : decodeDocument(message.payload, limits, message.contentType);
  return decoded.ok ? claimedVersion(decoded.value) : null;
}

function render(view: RolloutView, minFraction: number, met: boolean): string {
  if (view.rows.length === 0) return `no replica has ACKed tenant "${view.tenant}" yet`;
  const lines = [
    `tenant ${view.tenant}: ${view.target === null ? 'no rule set retained' : `rolling out v${view.target}`}`,
    ...view.clusters.map((c) => describeCluster(c, view.target)),
    `${(view.fraction * 100).toFixed(1)} % on it (need ${(minFraction * 100).toFixed(1)} %): ${met ? 'met' : 'NOT met'}`,
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
