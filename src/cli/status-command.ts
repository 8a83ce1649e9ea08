import { join } from 'node:path';
import { type ConfigMessage, SidecarClient } from '../api/index.ts';
import { buildConfig, CONFIG_DEFAULTS, ConfigError, loadConfigFile } from '../config/index.ts';
import { formatTable } from '../terminal-tables/index.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { parseFlags } from './parse-flags.ts';

/**
 * `filament status [--socket PATH | --config FILE] [--json]`: asks a running sidecar for its
 * health, identity, broker connection, rule versions and loaded models. Exit 0 when it is
 * SERVING, 1 when it is not or cannot be reached.
 */
export async function statusCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { socket: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
    'status',
  );
  if (positionals.length > 0)
    throw new UsageError(`status: unexpected arguments: ${positionals.join(' ')}`);
  let socket: string;
  try {
    socket = values.socket ?? (await socketFromConfig(values.config));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT.failed;
  }
  const client = new SidecarClient(`unix:${socket}`);
  try {
    const [health, config] = await Promise.all([client.checkHealth(''), client.getConfig()]);
    if (values.json) io.out(JSON.stringify({ socket, health, ...config }, null, 2));
    else io.out(render(health, config));
    return health === 'SERVING' ? EXIT.ok : EXIT.failed;
  } catch (error) {
    io.err(`filament status: cannot reach the sidecar on ${socket}: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    client.close();
  }
}

async function socketFromConfig(file: string | undefined): Promise<string> {
  if (file !== undefined) return buildConfig(await loadConfigFile(file), {}, {}).api.socket;
  return join(process.env.RUNTIME_DIRECTORY ?? CONFIG_DEFAULTS.state.dir, 'filament.sock');
}

function render(health: string, c: ConfigMessage): string {
  const since = c.broker.since_unix_ms ? new Date(c.broker.since_unix_ms).toISOString() : '-';
  const lines = [
    `filament ${c.identity.filament_version} on ${c.identity.replica} (cluster ${c.identity.cluster}): ${health}${c.stopping ? ' (stopping)' : ''}`,
    `broker  ${c.broker.state.replace('STATE_', '').toLowerCase()} ${c.broker.url} since ${since}, ${c.broker.reconnects} reconnects`,
    describeSignatures(c.signatures),
    describeDurability(c.tenants),
    describeInventory(c.inventory),
    ...c.drift.map((d) => `DRIFT   ${d.model} ${d.version}: ${d.problem}: ${d.detail}`),
    '',
    formatTable(
      ['tenant', 'active', 'kept', 'high-water', 'signed by', 'serving', 'last ack'],
      c.tenants.map((t) => [
        t.tenant,
        t.active_version ? `v${t.active_version}` : 'none',
        t.kept_versions.map((v) => `v${v}`).join(' ') || '-',
        t.high_water_version ? `v${t.high_water_version}` : '-',
        t.signed_by.join(' ') || '-',
        t.serving ? describeServing(t.serving) : '-',
        t.last_ack ? describeAck(t.last_ack) : '-',
      ]),
    ),
    ...unservableLines(c.tenants),
    '',
    c.models.length === 0
      ? 'models  none loaded'
      : formatTable(
          ['model', 'version', 'state'],
          c.models.map((m) => [m.id, m.version, m.ready ? 'ready' : 'not ready']),
        ),
  ];
  return lines.join('\n');
}

/** Says which tenants' active rules are not on disk (a full or read-only state directory). */
function describeDurability(tenants: ConfigMessage['tenants']): string {
  const unsaved = tenants.filter((t) => t.last_ack && !t.last_ack.persisted);
  if (unsaved.length === 0) return 'disk    last-known-good up to date';
  const which = unsaved.map((t) => `${t.tenant} v${t.last_ack?.active_version}`).join(', ');
  return `disk    NOT PERSISTED: ${which} (retrying; ${unsaved[0]?.last_ack?.reason ?? 'see the log'})`;
}

function describeSignatures(s: ConfigMessage['signatures']): string {
  if (s.trusted_key_ids.length === 0)
    return 'rules   NOT SIGNATURE-CHECKED: no trusted keys configured (rules.trusted_keys)';
  return `rules   signed by ${s.threshold} of ${s.trusted_key_ids.length} trusted key(s): ${s.trusted_key_ids.join(', ')}`;
}

function describeAck(a: NonNullable<ConfigMessage['tenants'][number]['last_ack']>): string {
  const what =
    a.status === 'rejected'
      ? `rejected v${a.received_version || '?'} (${a.code})`
      : `${a.status} v${a.received_version}`;
  return `${what} at ${a.at}`;
}

function describeInventory(i: ConfigMessage['inventory']): string {
  if (i === null || i.source === 'static') return 'models  from the [[models]] list of the config';
  if (!i.confirmed) return `models  UNCONFIRMED (${i.endpoint}): ${i.unconfirmed_reason}`;
  const at = i.last_answer_unix_ms ? new Date(i.last_answer_unix_ms).toISOString() : '-';
  return `models  as ${i.endpoint} lists them, last answer ${at}`;
}

type Serving = NonNullable<ConfigMessage['tenants'][number]['serving']>;

function describeServing(s: Serving): string {
  const can = s.objectives - s.unservable_objectives;
  return `${can}/${s.objectives} objectives`;
}

/** One line per routing key a tenant cannot be served on here, with why. */
function unservableLines(tenants: ConfigMessage['tenants']): string[] {
  const lines: string[] = [];
  for (const t of tenants)
    for (const u of t.serving?.unservable ?? [])
      lines.push(`cannot serve ${t.tenant} ${u.routing_key}: ${u.code}: ${u.reason}`);
  return lines.length === 0 ? [] : ['', ...lines];
}
