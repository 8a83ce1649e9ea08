import { resolvePointer } from '../codec/index.ts';
import {
  buildRuleDelta,
  formatRejection,
  parseRuleSet,
  type RuleDelta,
  type RuleSet,
} from '../rules/index.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { loadRuleFile, RULE_FILE_LIMITS, RuleFileError, unwrapRuleFile } from './load-rule-file.ts';
import { parseFlags } from './parse-flags.ts';

/** The rule set in a file (a signed file's inner set); a refusal names the file. */
export async function readRuleSet(file: string): Promise<RuleSet> {
  const opened = unwrapRuleFile(await loadRuleFile(file));
  if ('rejection' in opened)
    throw new RuleFileError(`${file}: ${formatRejection(opened.rejection)}`);
  const { inner } = opened;
  const parsed = parseRuleSet(inner.bytes, RULE_FILE_LIMITS, inner.contentType);
  if (!parsed.ok) throw new RuleFileError(`${file}: ${formatRejection(parsed.rejection)}`);
  return parsed.value.ruleSet;
}

/**
 * The delta from `from` to `to`, as bytes, after the checks a publisher owes its hosts: one
 * tenant, a newer version, and a delta smaller than the full set it replaces.
 */
export function deltaBytes(
  from: RuleSet,
  to: RuleSet,
  fullBytes: number,
): { delta: RuleDelta; bytes: Uint8Array } {
  if (from.tenant !== to.tenant)
    throw new RuleFileError(`the base is tenant "${from.tenant}", the new set "${to.tenant}"`);
  if (to.version <= from.version)
    throw new RuleFileError(
      `the new set's version ${to.version} is not greater than the base's ${from.version}`,
    );
  const delta = buildRuleDelta(from, to);
  const bytes = new TextEncoder().encode(JSON.stringify(delta));
  if (bytes.byteLength >= fullBytes)
    throw new RuleFileError(
      `the delta (${bytes.byteLength} bytes) is not smaller than the full set (${fullBytes} bytes): publish the full set (without --delta-from)`,
    );
  return { delta, bytes };
}

/** `filament rules diff OLD NEW`: what changes from one version to the next, one line each. */
export async function rulesDiff(argv: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags(argv, {}, 'rules diff');
  const [oldFile, newFile, ...extra] = positionals;
  if (oldFile === undefined || newFile === undefined || extra.length > 0)
    throw new UsageError('rules diff: expected OLD and NEW rule files');
  try {
    const [from, to] = [await readRuleSet(oldFile), await readRuleSet(newFile)];
    const delta = buildRuleDelta(from, to);
    for (const op of delta.patch) io.out(describe(op, from));
    const full = JSON.stringify(to).length;
    const size = JSON.stringify(delta).length;
    io.out(
      `${delta.patch.length} change(s): tenant ${to.tenant} version ${from.version} → ${to.version}; as a delta ${size} bytes, the full set ${full} bytes (${((100 * size) / full).toFixed(1)} %)`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof RuleFileError)) throw error;
    io.err(`rules diff: ${error.message}`);
    return EXIT.failed;
  }
}

function describe(op: RuleDelta['patch'][number], from: RuleSet): string {
  const show = (v: unknown) => {
    const text = JSON.stringify(v);
    return text.length > 120 ? `${text.slice(0, 117)}…` : text;
  };
  if (op.op === 'remove') return `- ${op.path}  (was ${show(resolvePointer(from, op.path))})`;
  if (op.op === 'add') return `+ ${op.path}  ${show(op.value)}`;
  if (op.op === 'replace')
    return `~ ${op.path}  ${show(resolvePointer(from, op.path))} → ${show(op.value)}`;
  return `? ${op.path}  is ${show(op.value)}`;
}
