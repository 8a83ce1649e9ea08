/** What `--help` prints for a broker-talking command's credentials. */
const CREDENTIALS = `CREDENTIALS, for a secured broker (secrets from files only, never on the command line):
  [--username U] [--password-file F] [--ca-file PEM] [--cert-file PEM --key-file PEM]`;

const EXIT_CODES =
  'Exit codes: 0 ok, 1 refused (bad config, invalid rules, broker unreachable), 2 bad command line.';

/** Each command's usage, keyed by its name (`rules lint` for a subcommand), in help order. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  run: `  filament run [--config FILE] [--broker URL]... [--tenant T]... [--replica R] [--cluster C]
               [--state-dir DIR] [--protocol 5|3.1.1] [--topic-prefix P] [--client-id ID]
               [--log-level debug|info|warn|error] [--grpc-socket PATH] [--grpc-listen 127.0.0.1:PORT]
               [--metrics-listen 127.0.0.1:PORT|off]
      Follow the rule stream: restore last-known-good rules, apply, persist and ACK/NACK.
      Several --broker URLs mean failover in order. Flags override the config file.`,
  status: `  filament status [--socket PATH | --config FILE] [--json]
      Ask a running sidecar over its API socket: health, broker, rule versions, loaded models.
      Exit 0 when it is SERVING, 1 when not (or unreachable).`,
  top: `  filament top --broker URL [--cluster C] [--interval MS] [--once [--wait MS]] [CREDENTIALS]
      A live table of the fleet from saturation reports, lowest score first (Ctrl-C quits).`,
  retire: `  filament retire (--config FILE | --broker URL --cluster C --replica R) [--force] [CREDENTIALS]
      Take a decommissioned replica off the broker: clear its retained report, servable set and
      ACKs, so rollouts and resolvers stop counting it. Refused while it still reports (--force).`,
  'check-config': `  filament check-config FILE
      Validate a config file; exit 0 when valid, 1 with every problem listed.`,
  'rules lint': `  filament rules lint FILE [--trusted-key K.pub [--threshold N]]
      Check a rule set (.json, .msgpack, or a .ts/.js module exporting it) offline.`,
  'rules publish': `  filament rules publish FILE --broker URL [--tenant T] [--format json|msgpack] [--key K.key]...
               [--delta-from OLD] [--force] [--protocol 5|3.1.1] [--topic-prefix P] [CREDENTIALS]
      Lint, then publish retained at QoS 1 to {prefix}/rules/{tenant}; with --key, signed. With
      --delta-from OLD: the change from OLD there, the full set to {prefix}/rules/{tenant}/full
      (refused when the delta is not smaller than the full set). Refused, unless --force, when the
      version is older than the retained one or than what a replica runs.`,
  'rules diff': `  filament rules diff OLD NEW
      What changes from one version of a rule set to the next, one line per change, with sizes.`,
  'rules status': `  filament rules status --broker URL --tenant T [--cluster C] [--json] [--wait [--timeout 60s]]
               [--min-fraction 0.99] [--max-nacks N] [--protocol 5|3.1.1] [--topic-prefix P] [CREDENTIALS]
      Where each live replica stands on the retained version: on it, ahead of it, NACKed (why),
      behind (silent how long), objectives it cannot serve; and what a new host would take. Exit 0
      once --min-fraction (default 1) are on it, at most --max-nacks (default 0) refused it, and
      none runs a newer version than the retained one.`,
  'rules sign': `  filament rules sign FILE --key K.key [--key K2.key]... [--out SIGNED.json] [--format json|msgpack]
      Lint, then wrap the set's exact bytes in an Ed25519-signed envelope (DSSE).`,
  'rules keygen': `  filament rules keygen NAME [--dir DIR]
      New signing key: NAME.key (private, 0600) and NAME.pub (for rules.trusted_keys).`,
  demo: `  filament demo [--in-process-broker]
      Start a private broker and a sidecar, publish the example rules, show ACKs and NACKs.`,
  version: `  filament version [--json]
      Version, commit, runtime and target.`,
  help: `  filament help [COMMAND [SUBCOMMAND]]
      This text, or one command's (as does COMMAND --help).`,
};

/** The help text of the `filament` command. */
export const USAGE = `filament — the model-serving host sidecar

Usage:
${Object.values(COMMAND_USAGE).join('\n')}

${CREDENTIALS}

${EXIT_CODES}`;

/**
 * The usage of `command` (and `sub`, for `rules`): one entry, or every `rules` subcommand when
 * `sub` names none; `undefined` for an unknown command.
 */
export function usageOf(command: string, sub?: string): string | undefined {
  const keys = Object.keys(COMMAND_USAGE).filter(
    (key) => key === `${command} ${sub}` || key === command,
  );
  const chosen =
    keys.length > 0 ? keys : Object.keys(COMMAND_USAGE).filter((k) => k.startsWith(`${command} `));
  if (chosen.length === 0) return undefined;
  const text = chosen.map((key) => COMMAND_USAGE[key]).join('\n');
  return `Usage:\n${text}${text.includes('CREDENTIALS') ? `\n\n${CREDENTIALS}` : ''}\n\n${EXIT_CODES}`;
}
