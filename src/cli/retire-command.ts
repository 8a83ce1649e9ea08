import { buildConfig, ConfigError, loadConfigFile } from '../config/index.ts';
import { readBrokerFiles } from '../credentials/index.ts';
import {
  DEFAULT_TOPIC_PREFIX,
  type InboundMessage,
  MqttConnection,
  type MqttConnectionOptions,
  replicaTopic,
} from '../mqtt/index.ts';
import { decodeReport, servableSetTopic } from '../report/index.ts';
import { CREDENTIAL_FLAGS, credentialsOrSay } from './broker-credentials.ts';
import { type CliIo, EXIT, UsageError } from './cli-io.ts';
import { listenForRetained } from './fleet-watch.ts';
import { BROKER_FLAGS, brokerFlag, parseFlags, protocolFlag } from './parse-flags.ts';
import { isLive, type ReportSeen, reportSeen } from './rollout-view.ts';

/**
 * `filament retire (--config FILE | --broker URL --cluster C --replica R) [--force]`: takes a
 * decommissioned replica off the broker — clears its retained saturation report, servable set and
 * every ACK it left (one per tenant it followed) — so rollouts, resolvers and `top` stop counting
 * it. With `--config`, the host retires itself (the identity and broker of its own config: what
 * the package's removal runs); otherwise an operator names it. A replica whose report is live is
 * refused without `--force` (it would publish them again at once).
 */
export async function retireCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(
    argv,
    {
      ...BROKER_FLAGS,
      ...CREDENTIAL_FLAGS,
      config: { type: 'string' },
      cluster: { type: 'string' },
      replica: { type: 'string' },
      force: { type: 'boolean' },
    },
    'retire',
  );
  const target = await retireTarget(values, io);
  if (target === null) return EXIT.failed;
  const { cluster, replica, prefix } = target;
  const found = await retainedOf(target.connection, prefix, cluster, replica);
  if (found === null) {
    io.err(`retire: cannot reach the broker at ${target.connection.urls.join(', ')}`);
    return EXIT.failed;
  }
  if (isLive(found.report, Date.now()) && !values.force) {
    const age = Math.round((Date.now() - (found.report?.at ?? 0)) / 1000);
    io.err(
      `retire: ${replica} of ${cluster} is running (it reported ${found.report?.state} ${age} s ago): stop its sidecar first, or add --force`,
    );
    return EXIT.failed;
  }
  const topics = [
    replicaTopic(prefix, cluster, replica),
    servableSetTopic(prefix, cluster, replica),
    ...found.acks,
  ];
  const connection = new MqttConnection({ ...target.connection, clientId: clientId('retire') });
  connection.start();
  try {
    await withTimeout(
      Promise.all(topics.map((t) => connection.publishRetained(t, new Uint8Array(0)))),
      10_000,
    );
  } catch {
    io.err(`retire: the broker did not confirm clearing ${replica}'s topics within 10 s`);
    return EXIT.failed;
  } finally {
    await connection.stop();
  }
  io.out(
    `retired ${replica} of ${cluster}: cleared ${topics.length} retained topic(s)\n${topics.map((t) => `  ${t}`).join('\n')}`,
  );
  return EXIT.ok;
}

/** Who to retire and how to reach the broker, from the config or the flags; `null` after saying why. */
async function retireTarget(
  values: ReturnType<typeof parseFlags<RetireFlags>>['values'],
  io: CliIo,
): Promise<{
  connection: MqttConnectionOptions;
  prefix: string;
  cluster: string;
  replica: string;
} | null> {
  if (values.config !== undefined) {
    if (values.broker || values.cluster || values.replica)
      throw new UsageError('retire: give --config, or --broker with --cluster and --replica');
    try {
      const config = buildConfig(await loadConfigFile(values.config), {});
      const secrets = await readBrokerFiles(config.broker);
      return {
        connection: {
          urls: config.broker.urls,
          clientId: clientId('retire-check'),
          protocolVersion: config.broker.protocol === '3.1.1' ? 4 : 5,
          cleanSession: true,
          ...(config.broker.username !== undefined ? { username: config.broker.username } : {}),
          ...secrets,
        },
        prefix: config.broker.topicPrefix,
        ...config.identity,
      };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.err(`retire: ${values.config}: ${error.problems.join('; ')}`);
      return null;
    }
  }
  if (values.cluster === undefined || values.replica === undefined)
    throw new UsageError('retire: --cluster C and --replica R are required (or --config FILE)');
  const credentials = await credentialsOrSay(values, 'retire', io.err);
  if (credentials === null) return null;
  return {
    connection: {
      urls: brokerFlag(values.broker, 'retire'),
      clientId: clientId('retire-check'),
      protocolVersion: protocolFlag(values.protocol, 'retire'),
      cleanSession: true,
      ...credentials,
    },
    prefix: values['topic-prefix'] ?? DEFAULT_TOPIC_PREFIX,
    cluster: values.cluster,
    replica: values.replica,
  };
}

type RetireFlags = typeof BROKER_FLAGS &
  typeof CREDENTIAL_FLAGS & {
    config: { type: 'string' };
    cluster: { type: 'string' };
    replica: { type: 'string' };
    force: { type: 'boolean' };
  };

/**
 * The replica's retained report and the ACK topics it left (those whose ACK names its cluster),
 * heard in one second after connecting; `null` when the broker cannot be reached.
 */
async function retainedOf(
  options: MqttConnectionOptions,
  prefix: string,
  cluster: string,
  replica: string,
): Promise<{ report: ReportSeen | undefined; acks: string[] } | null> {
  const connection = new MqttConnection(options);
  let report: ReportSeen | undefined;
  const acks: string[] = [];
  connection.subscribe(replicaTopic(prefix, cluster, replica), async (m) => {
    const decoded = m.payload.byteLength > 0 ? decodeReport(m.payload) : null;
    if (decoded && !('error' in decoded)) report = reportSeen(decoded);
  });
  connection.subscribe(`${prefix}/acks/+/${replica}`, async (m: InboundMessage) => {
    if (m.payload.byteLength > 0 && ackCluster(m.payload) === cluster) acks.push(m.topic);
  });
  try {
    return (await listenForRetained(connection)) ? { report, acks } : null;
  } finally {
    await connection.stop();
  }
}

function ackCluster(payload: Uint8Array): string | undefined {
  try {
    return (JSON.parse(new TextDecoder().decode(payload)) as { cluster?: string }).cluster;
  } catch {
    return undefined;
  }
}

function clientId(what: string): string {
  return `filament-${what}-${Math.random().toString(16).slice(2, 10)}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
