/** The command-line settings of `filament run`, as parsed (every one optional; undefined = not given). */
export interface ConfigFlags {
  readonly broker?: readonly string[] | undefined;
  readonly tenant?: readonly string[] | undefined;
  readonly replica?: string | undefined;
  readonly cluster?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly protocol?: string | undefined;
  readonly topicPrefix?: string | undefined;
  readonly clientId?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly grpcSocket?: string | undefined;
  readonly grpcListen?: string | undefined;
  readonly metricsListen?: string | undefined;
}

/** Which flag sets which config-file field; used to name the flag in error messages. */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = Object.freeze({
  'broker.urls': '--broker',
  'rules.tenants': '--tenant',
  'identity.replica': '--replica',
  'identity.cluster': '--cluster',
  'state.dir': '--state-dir',
  'broker.protocol': '--protocol',
  'broker.topic_prefix': '--topic-prefix',
  'broker.client_id': '--client-id',
  'log.level': '--log-level',
  'api.socket': '--grpc-socket',
  'api.listen': '--grpc-listen',
  'metrics.listen': '--metrics-listen',
});

/** Turns flags into a partial config-file document, to be merged over the file. */
export function flagsToDocument(flags: ConfigFlags): Record<string, Record<string, unknown>> {
  const doc: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, value: unknown) => {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) return;
    doc[section] ??= {};
    (doc[section] as Record<string, unknown>)[key] = value;
  };
  set('broker', 'urls', flags.broker);
  set('rules', 'tenants', flags.tenant);
  set('identity', 'replica', flags.replica);
  set('identity', 'cluster', flags.cluster);
  set('state', 'dir', flags.stateDir);
  set('broker', 'protocol', flags.protocol);
  set('broker', 'topic_prefix', flags.topicPrefix);
  set('broker', 'client_id', flags.clientId);
  set('log', 'level', flags.logLevel);
  set('api', 'socket', flags.grpcSocket);
  set('api', 'listen', flags.grpcListen);
  set('metrics', 'listen', flags.metricsListen);
  return doc;
}
