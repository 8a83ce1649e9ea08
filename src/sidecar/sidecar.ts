import { readFile } from 'node:fs/promises';
import { type Clock, systemClock } from '../clock/index.ts';
import { type Config, ConfigError } from '../config/index.ts';
import { type AckDocument, RuleFollower } from '../follower/index.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { type ConnectionStatus, MqttConnection } from '../mqtt/index.ts';
import { RuleApplier, RuleStore } from '../rules/index.ts';
import { StateStore } from '../state/index.ts';

/** What {@linkcode Sidecar} needs besides its config. */
export interface SidecarDeps {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** A point-in-time view of the sidecar, for status output and tests. */
export interface SidecarStatus {
  readonly replica: string;
  readonly cluster: string;
  readonly broker: ConnectionStatus;
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    readonly activeVersion: number | null;
    readonly keptVersions: readonly number[];
    readonly highWater: number;
    readonly lastAck: AckDocument | null;
  }>;
}

/**
 * The composition root of `filament run`: builds the subsystems from config, starts them in
 * dependency order (state dir → last-known-good rules → broker → rule stream) and stops them in
 * reverse. The store is public so in-process users (tests, the validation engine) can read it.
 */
export class Sidecar {
  readonly store: RuleStore;
  private readonly state: StateStore;
  private readonly applier: RuleApplier;
  private connection: MqttConnection | null = null;
  private follower: RuleFollower | null = null;
  private readonly log: Logger;
  private readonly clock: Clock;
  private stopping: Promise<void> | null = null;

  constructor(
    readonly config: Config,
    private readonly deps: SidecarDeps = {},
  ) {
    this.log = deps.logger ?? silentLogger;
    this.clock = deps.clock ?? systemClock;
    this.store = new RuleStore(config.rules.historySize);
    this.state = new StateStore(config.state.dir);
    const limits = { maxBytes: config.rules.maxMessageBytes, maxDepth: config.rules.maxDepth };
    this.applier = new RuleApplier(this.store, { limits, now: () => this.clock.now() });
  }

  /**
   * Opens the state directory, restores last-known-good rules, then connects to the broker in the
   * background (an unreachable broker does not fail start-up) and follows the rule stream.
   * @throws {StateWriteError} when the state directory cannot be created.
   */
  async start(): Promise<void> {
    const c = this.config;
    await this.state.open();
    const password = c.broker.passwordFile ? await readSecret(c.broker.passwordFile) : undefined;
    this.connection = new MqttConnection({
      urls: c.broker.urls,
      clientId: c.broker.clientId,
      protocolVersion: c.broker.protocol === '3.1.1' ? 4 : 5,
      keepaliveSeconds: c.broker.keepaliveSeconds,
      sessionExpirySeconds: c.broker.sessionExpirySeconds,
      connectTimeoutMs: c.broker.connectTimeoutMs,
      // Room above the rule cap so oversize sets still arrive and are NACKed with a reason.
      maximumPacketSize: Math.min(268_435_455, c.rules.maxMessageBytes * 2 + 65_536),
      backoff: c.broker.reconnect,
      ...(c.broker.username !== undefined ? { username: c.broker.username } : {}),
      ...(password !== undefined ? { password } : {}),
      clock: this.clock,
      ...(this.deps.random ? { random: this.deps.random } : {}),
      logger: this.log.child('mqtt'),
    });
    this.follower = new RuleFollower({
      bus: this.connection,
      applier: this.applier,
      store: this.store,
      state: this.state,
      topicPrefix: c.broker.topicPrefix,
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      tenants: c.rules.tenants,
      clock: this.clock,
      logger: this.log.child('rules'),
    });
    await this.follower.restore();
    this.connection.start();
    this.follower.start();
    this.log.info('sidecar started', {
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      tenants: c.rules.tenants,
      brokers: c.broker.urls,
      protocol: c.broker.protocol,
    });
  }

  /** Stops following and disconnects cleanly. Idempotent; concurrent calls share one stop. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.follower?.stop();
      await this.connection?.stop();
      this.log.info('sidecar stopped');
    })();
    return this.stopping;
  }

  /** The current state of every configured tenant and of the broker connection. */
  status(): SidecarStatus {
    const c = this.config;
    return {
      replica: c.identity.replica,
      cluster: c.identity.cluster,
      broker: this.connection?.status() ?? {
        state: 'idle',
        url: null,
        reconnects: 0,
        since: this.clock.now(),
      },
      tenants: c.rules.tenants.map((tenant) => {
        const rules = this.store.get(tenant);
        return {
          tenant,
          activeVersion: rules?.active.version ?? null,
          keptVersions: rules?.history.map((r) => r.version) ?? [],
          highWater: this.store.highWater(tenant),
          lastAck: this.follower?.lastAck(tenant) ?? null,
        };
      }),
    };
  }
}

/** Reads a secret from a file (e.g. a systemd credential), without its trailing newline. */
async function readSecret(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(
      [`broker.password_file: cannot read ${path}: ${(error as Error).message}`],
      { cause: error },
    );
  }
}
