import type { Encoding } from '../codec/index.ts';
import { CONFIG_DEFAULTS } from '../config/index.ts';
import { DEFAULT_TOPIC_PREFIX, PublishError, publishOnce, rulesTopic } from '../mqtt/index.ts';
import {
  formatRejection,
  loadRuleFile,
  parseRuleSet,
  RuleApplier,
  type RuleFile,
  RuleFileError,
  RuleStore,
} from '../rules/index.ts';
import { brokerCredentials, CREDENTIAL_FLAGS, CredentialFileError } from './broker-credentials.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { BROKER_FLAGS, parseFlags } from './parse-flags.ts';

/** `filament rules lint|publish …`. */
export async function rulesCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'lint') return lint(rest, io);
  if (sub === 'publish') return publish(rest, io);
  throw new UsageError(
    `rules: expected "lint" or "publish", got ${sub === undefined ? 'nothing' : `"${sub}"`}`,
  );
}

type LintResult =
  | { ok: true; tenant: string; version: number; summary: string }
  | { ok: false; reason: string };

/** Runs a rule file through the same pipeline a sidecar uses, against an empty store. */
async function lintFile(
  file: string,
  tenant: string | undefined,
  encoding?: Encoding,
): Promise<{ rules: RuleFile; result: LintResult }> {
  const rules = await loadRuleFile(file, encoding);
  const limits = {
    maxBytes: CONFIG_DEFAULTS.rules.max_message_bytes,
    maxDepth: CONFIG_DEFAULTS.rules.max_depth,
  };
  const parsed = parseRuleSet(rules.bytes, limits, rules.contentType);
  if (!parsed.ok)
    return { rules, result: { ok: false, reason: formatRejection(parsed.rejection) } };
  const outcome = new RuleApplier(new RuleStore(1), { limits, now: Date.now }).apply({
    tenant: tenant ?? parsed.value.ruleSet.tenant,
    bytes: rules.bytes,
    contentType: rules.contentType,
  });
  if (outcome.status === 'rejected')
    return { rules, result: { ok: false, reason: formatRejection(outcome.rejection) } };
  const r = outcome.rules;
  const summary = `${r.models.size} models, ${r.objectives.size} objectives, ${r.payloadSchemas.size} payload schemas, ${rules.bytes.byteLength} bytes ${rules.encoding}`;
  return { rules, result: { ok: true, tenant: r.tenant, version: r.version, summary } };
}

async function lint(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, { tenant: { type: 'string' } }, 'rules lint');
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('rules lint: expected exactly one FILE');
  try {
    const { result } = await lintFile(file, values.tenant);
    if (!result.ok) {
      io.err(`invalid: ${file}: ${result.reason}`);
      return EXIT.failed;
    }
    io.out(`ok: ${file}: tenant ${result.tenant} version ${result.version}: ${result.summary}`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof RuleFileError)) throw error;
    io.err(`invalid: ${error.message}`);
    return EXIT.failed;
  }
}

async function publish(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...BROKER_FLAGS,
      ...CREDENTIAL_FLAGS,
      tenant: { type: 'string' },
      format: { type: 'string' },
      timeout: { type: 'string' },
    },
    'rules publish',
  );
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('rules publish: expected exactly one FILE');
  const url = values.broker?.[0];
  if (url === undefined) throw new UsageError('rules publish: --broker URL is required');
  if (values.format !== undefined && values.format !== 'json' && values.format !== 'msgpack') {
    throw new UsageError(`rules publish: --format must be json or msgpack, got "${values.format}"`);
  }
  const protocol = values.protocol ?? '5';
  if (protocol !== '5' && protocol !== '3.1.1')
    throw new UsageError(`rules publish: --protocol must be 5 or 3.1.1, got "${protocol}"`);
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout) * 1000;
  if (!(timeoutMs > 0))
    throw new UsageError(
      `rules publish: --timeout must be a positive number of seconds, got "${values.timeout}"`,
    );
  try {
    const { rules, result } = await lintFile(
      file,
      values.tenant,
      values.format as Encoding | undefined,
    );
    if (!result.ok) {
      io.err(`not published: ${file}: ${result.reason}`);
      return EXIT.failed;
    }
    const topic = rulesTopic(values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX, result.tenant);
    await publishOnce({
      url,
      topic,
      payload: rules.bytes,
      contentType: rules.contentType,
      protocolVersion: protocol === '5' ? 5 : 4,
      timeoutMs,
      ...(await brokerCredentials(values)),
    });
    io.out(
      `published: tenant ${result.tenant} version ${result.version} to ${topic} (${rules.bytes.byteLength} bytes ${rules.encoding}, retained, QoS 1)`,
    );
    return EXIT.ok;
  } catch (error) {
    if (
      !(error instanceof RuleFileError) &&
      !(error instanceof PublishError) &&
      !(error instanceof CredentialFileError)
    )
      throw error;
    io.err(`not published: ${error.message}`);
    return EXIT.failed;
  }
}
