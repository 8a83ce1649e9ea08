import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfigMessage, type SaturationMessage, SidecarClient } from '../api/index.ts';
import { buildConfig, CONFIG_DEFAULTS, ConfigError, loadConfigFile } from '../config/index.ts';
import { formatTable } from '../terminal-tables/index.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { parseFlags } from './parse-flags.ts';

/**
 * `filament status [--socket PATH | --config FILE] [--json]`: asks a running sidecar for its
 * health, replica state, identity, broker connection, rule versions, what it cannot serve and its
 * models. Exit 0 only when it is SERVING and can serve: its replica state takes traffic and at
 * least one objective routed here can be served; 1 otherwise, or when it cannot be reached. With
 * neither flag it looks where the unit puts the socket (`$RUNTIME_DIRECTORY`, `/run/filament`),
 * then in the default state directory.
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
    const [health, config, saturation] = await Promise.all([
      client.checkHealth(''),
      client.getConfig(),
      client.getSaturation(),
    ]);
    const verdict = canServe(health, saturation);
    if (values.json)
      io.out(JSON.stringify({ socket, health, saturation, canServe: verdict, ...config }, null, 2));
    else io.out(render(health, config, saturation, verdict));
    return verdict.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    io.err(await unreachable(socket, error as Error));
    return EXIT.failed;
  } finally {
    client.close();
  }
}

/** Where the socket is when no flag says: the unit's runtime directory first. */
async function socketFromConfig(file: string | undefined): Promise<string> {
  if (file !== undefined) return buildConfig(await loadConfigFile(file), {}, {}).api.socket;
  const candidates = [
    ...(process.env.RUNTIME_DIRECTORY
      ? [join(process.env.RUNTIME_DIRECTORY, 'filament.sock')]
      : []),
    '/run/filament/filament.sock',
    join(CONFIG_DEFAULTS.state.dir, 'filament.sock'),
  ];
  for (const path of candidates) if (await exists(path)) return path;
  return candidates[0] as string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** One sentence saying why the sidecar could not be asked, and what to try. */
async function unreachable(socket: string, error: Error): Promise<string> {
  const head = 'filament status:';
  if (!(await exists(socket)))
    return `${head} cannot reach the sidecar on ${socket}: there is no socket there (is filament running? try systemctl status filament, or --socket PATH / --config FILE)`;
  try {
    await access(socket, constants.R_OK | constants.W_OK);
  } catch {
    return `${head} cannot reach the sidecar on ${socket}: permission denied (run it as root or as a member of the socket's group; see docs/running.md, "Who may use the API socket")`;
  }
  const why = error.message.split('\n')[0]?.replace(/^\d+ [A-Z_]+: /, '') ?? 'no answer';
  return `${head} cannot reach the sidecar on ${socket}: it does not answer (${why})`;
}

/** Replica states in which load balancers send the host nothing (the agent-check says down or drain). */
const NOT_TAKING_TRAFFIC = new Set(['COLD', 'UNHEALTHY', 'STALE_RULES', 'OFFLINE', 'DRAINING']);

/**
 * Whether the host can serve now, and if not why: SERVING health and a replica state that takes
 * traffic (a host that can serve none of the routing keys routed here is COLD). Pure.
 */
export function canServe(
  health: string,
  saturation: SaturationMessage | null,
): { ok: true } | { ok: false; why: string } {
  if (health !== 'SERVING') return { ok: false, why: `health is ${health}` };
  const state = saturation?.state.replace('REPLICA_STATE_', '');
  if (state === undefined) return { ok: false, why: 'no saturation report yet' };
  if (NOT_TAKING_TRAFFIC.has(state))
    return { ok: false, why: `the replica is ${state}: load balancers send it nothing` };
  // A host that can serve none of the routing keys routed here is COLD (the state above); one
  // that serves some keys of every objective but not all of them still serves: its servable set
  // tells resolvers which (the table below lists what it cannot serve).
  return { ok: true };
}

function render(
  health: string,
  c: ConfigMessage,
  saturation: SaturationMessage | null,
  verdict: ReturnType<typeof canServe>,
): string {
  const since = c.broker.since_unix_ms ? new Date(c.broker.since_unix_ms).toISOString() : '-';
  const state = saturation
    ? `${saturation.state.replace('REPLICA_STATE_', '')}, score ${saturation.score.toFixed(2)}`
    : 'no report yet';
  const lines = [
    `filament ${c.identity.filament_version} on ${c.identity.replica} (cluster ${c.identity.cluster}): ${health}${c.stopping ? ' (stopping)' : ''}`,
    verdict.ok ? `replica ${state}: can serve` : `replica ${state}: CANNOT SERVE: ${verdict.why}`,
    `broker  ${c.broker.state.replace('STATE_', '').toLowerCase()} ${c.broker.url} since ${since}, ${c.broker.reconnects} reconnects`,
    describeSignatures(c.signatures),
    describeDurability(c.tenants),
    describeInventory(c.inventory),
    describeChecks(c.checks),
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

/**
 * `checks   1,204 requests checked since start: 1,100 allow, 90 elsewhere, 14 refused; reasons
 * MODEL_NOT_LOADED 90, UNKNOWN_OBJECTIVE 14`, or that no proxy has asked yet.
 */
function describeChecks(k: ConfigMessage['checks']): string {
  if (!k || k.answered === 0)
    return 'checks  no request checked yet (no proxy asks this host: see docs/request-path.md)';
  const order = ['allow', 'unchecked', 'elsewhere', 'refused', 'malformed', 'error'];
  const verdicts = [...k.by_verdict]
    .sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key))
    .map((e) => `${e.value} ${e.key}`);
  const reasons = [...k.by_reason]
    .sort((a, b) => b.value - a.value || a.key.localeCompare(b.key))
    .slice(0, 5)
    .map((e) => `${e.key} ${e.value}`);
  return `checks  ${k.answered} request(s) checked since start: ${verdicts.join(', ')}${reasons.length ? `; reasons ${reasons.join(', ')}` : ''}`;
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
