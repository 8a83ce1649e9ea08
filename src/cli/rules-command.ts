import type { KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Encoding } from '../codec/index.ts';
import {
  DEFAULT_TOPIC_PREFIX,
  PublishError,
  publishOnce,
  rulesFullTopic,
  rulesTopic,
} from '../mqtt/index.ts';
import {
  DELTA_CONTENT_TYPE,
  formatRejection,
  parseRuleSet,
  type Rejection,
  RuleApplier,
  RuleStore,
} from '../rules/index.ts';
import {
  ENVELOPE_CONTENT_TYPE,
  KeyError,
  signRuleDelta,
  signRuleSet,
  type TrustRoot,
} from '../trust/index.ts';
import { brokerCredentials, CREDENTIAL_FLAGS, CredentialFileError } from './broker-credentials.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import {
  loadRuleFile,
  RULE_FILE_LIMITS,
  type RuleFile,
  RuleFileError,
  unwrapRuleFile,
} from './load-rule-file.ts';
import { BROKER_FLAGS, brokerFlag, parseFlags, protocolFlag } from './parse-flags.ts';
import { regressionOnBroker } from './publish-guard.ts';
import { keygen, readSigningKeys, readTrustRoot } from './rules-signing.ts';

/** `filament rules lint|sign|publish|keygen|status …`. */
export async function rulesCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'lint') return lint(rest, io);
  if (sub === 'sign') return sign(rest, io);
  if (sub === 'publish') return publish(rest, io);
  if (sub === 'keygen') return keygen(rest, io);
  if (sub === 'status') return (await import('./rules-status.ts')).rulesStatus(rest, io);
  if (sub === 'diff') return (await import('./rules-delta.ts')).rulesDiff(rest, io);
  throw new UsageError(
    `rules: expected "lint", "sign", "publish", "keygen", "status" or "diff", got ${sub === undefined ? 'nothing' : `"${sub}"`}`,
  );
}

/** Errors that refuse a rule file with a sentence (exit 1) rather than crash. */
const isRefusal = (error: unknown) =>
  error instanceof RuleFileError ||
  error instanceof PublishError ||
  error instanceof CredentialFileError ||
  error instanceof KeyError;

type LintResult =
  | { ok: true; tenant: string; version: number; summary: string; expiresAt?: string }
  | { ok: false; reason: string };

/** Runs a rule file through the same pipeline a sidecar uses, against an empty store. */
async function lintFile(
  file: string,
  tenant: string | undefined,
  encoding?: Encoding,
  trust?: TrustRoot,
): Promise<{ rules: RuleFile; signed: boolean; result: LintResult }> {
  const rules = await loadRuleFile(file, encoding);
  const limits = RULE_FILE_LIMITS;
  const refuse = (rejection: Rejection) => ({
    rules,
    signed: false,
    result: { ok: false as const, reason: formatRejection(rejection) },
  });
  // A signed file (`rules sign`) is linted as the rule set inside, and its signatures checked
  // against `trust` when given.
  const opened = unwrapRuleFile(rules);
  if ('rejection' in opened) return refuse(opened.rejection);
  const { envelope, inner } = opened;
  const parsed = parseRuleSet(inner.bytes, limits, inner.contentType);
  if (!parsed.ok) return refuse(parsed.rejection);
  const outcome = new RuleApplier(new RuleStore(1), {
    limits,
    now: Date.now,
    ...(trust ? { trust } : {}),
  }).apply({
    tenant: tenant ?? parsed.value.ruleSet.tenant,
    bytes: rules.bytes,
    contentType: envelope ? ENVELOPE_CONTENT_TYPE : rules.contentType,
  });
  if (outcome.status === 'rejected') return refuse(outcome.rejection);
  if (outcome.status === 'needs-full')
    return {
      rules,
      signed: false,
      result: {
        ok: false as const,
        reason: `a delta (version ${outcome.base} → ${outcome.version}) is checked against its base when it is applied, not on its own`,
      },
    };
  const r = outcome.rules;
  const signature =
    r.signedBy === undefined
      ? ''
      : r.signedBy.length > 0
        ? `, signed by ${r.signedBy.join(', ')}`
        : `, signed (${envelope?.signatures.map((s) => s.keyid).join(', ')}; not checked: no --trusted-key)`;
  const summary = `${r.models.size} models, ${r.objectives.size} objectives, ${r.payloadSchemas.size} payload schemas, ${inner.bytes.byteLength} bytes ${r.encoding}${signature}`;
  return {
    rules,
    signed: envelope !== null,
    result: {
      ok: true,
      tenant: r.tenant,
      version: r.version,
      summary,
      ...(r.ruleSet.expiresAt !== undefined ? { expiresAt: r.ruleSet.expiresAt } : {}),
    },
  };
}

async function lint(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      tenant: { type: 'string' },
      'trusted-key': { type: 'string', multiple: true },
      threshold: { type: 'string' },
    },
    'rules lint',
  );
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('rules lint: expected exactly one FILE');
  try {
    const trust = await readTrustRoot(values['trusted-key'], values.threshold);
    const { result } = await lintFile(file, values.tenant, undefined, trust);
    if (!result.ok) {
      io.err(`invalid: ${file}: ${result.reason}`);
      return EXIT.failed;
    }
    io.out(`ok: ${file}: tenant ${result.tenant} version ${result.version}: ${result.summary}`);
    return EXIT.ok;
  } catch (error) {
    if (!isRefusal(error)) throw error;
    io.err(`invalid: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

/**
 * `filament rules sign FILE --key K.key [--key …] [--out F] [--format json|msgpack]`: lints the
 * set, then wraps its exact bytes in a DSSE envelope signed by each key.
 */
async function sign(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      key: { type: 'string', multiple: true },
      out: { type: 'string' },
      tenant: { type: 'string' },
      format: { type: 'string' },
    },
    'rules sign',
  );
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('rules sign: expected exactly one FILE');
  if (!values.key?.length) throw new UsageError('rules sign: at least one --key K.key is required');
  try {
    const keys = await readSigningKeys(values.key);
    const signed = signLinted(await lintFile(file, values.tenant, formatFlag(values.format)), keys);
    if (!signed.ok) {
      io.err(`not signed: ${file}: ${signed.reason}`);
      return EXIT.failed;
    }
    if (values.out === undefined) io.out(new TextDecoder().decode(signed.bytes));
    else {
      await writeFile(values.out, signed.bytes);
      io.out(`signed: ${file} → ${values.out} (${signed.keyIds.join(', ')})`);
    }
    return EXIT.ok;
  } catch (error) {
    if (!isRefusal(error)) throw error;
    io.err(`not signed: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

/** Signs a linted bare rule file with `keys`; refuses what failed lint or is already signed. */
function signLinted(
  { rules, signed, result }: Awaited<ReturnType<typeof lintFile>>,
  keys: readonly KeyObject[],
): { ok: true; bytes: Uint8Array; keyIds: string[] } | { ok: false; reason: string } {
  if (!result.ok) return result;
  if (signed) return { ok: false, reason: 'already signed; sign the bare rule set instead' };
  if (result.expiresAt === undefined)
    return {
      ok: false,
      reason:
        'NO_EXPIRY: sidecars that check signatures require expiresAt (a withheld update must not freeze hosts on old rules)',
    };
  const envelope = signRuleSet(rules.bytes, rules.encoding, keys);
  return {
    ok: true,
    bytes: new TextEncoder().encode(`${JSON.stringify(envelope)}\n`),
    keyIds: envelope.signatures.map((s) => s.keyid),
  };
}

function formatFlag(format: string | undefined): Encoding | undefined {
  if (format !== undefined && format !== 'json' && format !== 'msgpack')
    throw new UsageError(`--format must be json or msgpack, got "${format}"`);
  return format;
}

async function publish(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      ...BROKER_FLAGS,
      ...CREDENTIAL_FLAGS,
      key: { type: 'string', multiple: true },
      tenant: { type: 'string' },
      format: { type: 'string' },
      timeout: { type: 'string' },
      'delta-from': { type: 'string' },
      force: { type: 'boolean' },
    },
    'rules publish',
  );
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new UsageError('rules publish: expected exactly one FILE');
  const [url] = brokerFlag(values.broker, 'rules publish') as [string];
  const format = formatFlag(values.format);
  const protocolVersion = protocolFlag(values.protocol, 'rules publish');
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout) * 1000;
  if (!(timeoutMs > 0))
    throw new UsageError(
      `rules publish: --timeout must be a positive number of seconds, got "${values.timeout}"`,
    );
  try {
    const linted = await lintFile(file, values.tenant, format);
    const { rules, signed, result } = linted;
    if (!result.ok) {
      io.err(`not published: ${file}: ${result.reason}`);
      return EXIT.failed;
    }
    let payload = rules.bytes;
    let contentType = signed ? ENVELOPE_CONTENT_TYPE : rules.contentType;
    const keys = values.key?.length ? await readSigningKeys(values.key) : undefined;
    if (keys !== undefined) {
      const envelope = signLinted(linted, keys);
      if (!envelope.ok) {
        io.err(`not published: ${file}: ${envelope.reason}`);
        return EXIT.failed;
      }
      payload = envelope.bytes;
      contentType = ENVELOPE_CONTENT_TYPE;
    }
    const prefix = values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX;
    const topic = rulesTopic(prefix, result.tenant);
    const send = async (to: string, bytes: Uint8Array, type: string) =>
      publishOnce({
        url,
        topic: to,
        payload: bytes,
        contentType: type,
        protocolVersion,
        timeoutMs,
        ...(await brokerCredentials(values)),
      });
    const kind =
      contentType === ENVELOPE_CONTENT_TYPE ? `signed ${rules.encoding}` : rules.encoding;
    // Taking the tenant backwards is refused, after every offline check (unless --force).
    const refusedAsBackwards = async (): Promise<boolean> => {
      if (values.force) return false;
      const regression = await regressionOnBroker({
        connection: {
          urls: [url],
          clientId: `filament-publish-check-${Math.random().toString(16).slice(2, 10)}`,
          protocolVersion,
          cleanSession: true,
          ...(await brokerCredentials(values)),
        },
        prefix,
        tenant: result.tenant,
        version: result.version,
        topic,
        connectTimeoutMs: timeoutMs,
      });
      if (regression !== null) io.err(`not published: ${regression}`);
      return regression !== null;
    };
    if (values['delta-from'] !== undefined) {
      // The complete set first, where hosts that cannot apply the delta take it; then the delta.
      // Signed like the full set: hosts that require signatures refuse a bare delta.
      if (signed && keys === undefined) {
        io.err(
          `not published: ${file} is signed, and its delta must be too: give the signing --key(s)`,
        );
        return EXIT.failed;
      }
      const { readRuleSet, deltaBytes } = await import('./rules-delta.ts');
      const from = await readRuleSet(values['delta-from']);
      const delta = deltaBytes(from, await readRuleSet(file), payload.byteLength);
      const bytes =
        keys === undefined
          ? delta.bytes
          : new TextEncoder().encode(JSON.stringify(signRuleDelta(delta.bytes, keys)));
      const full = rulesFullTopic(prefix, result.tenant);
      if (await refusedAsBackwards()) return EXIT.failed;
      await send(full, payload, contentType);
      await send(topic, bytes, keys === undefined ? DELTA_CONTENT_TYPE : ENVELOPE_CONTENT_TYPE);
      io.out(
        `published: tenant ${result.tenant} version ${result.version} as a ${keys === undefined ? '' : 'signed '}delta from version ${from.version} to ${topic} (${bytes.byteLength} bytes, ${((100 * bytes.byteLength) / payload.byteLength).toFixed(2)} % of the full set), and the full set to ${full} (${payload.byteLength} bytes ${kind}); both retained, QoS 1`,
      );
      return EXIT.ok;
    }
    if (await refusedAsBackwards()) return EXIT.failed;
    await send(topic, payload, contentType);
    io.out(
      `published: tenant ${result.tenant} version ${result.version} to ${topic} (${payload.byteLength} bytes ${kind}, retained, QoS 1)`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!isRefusal(error)) throw error;
    io.err(`not published: ${(error as Error).message}`);
    return EXIT.failed;
  }
}
