import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/local-broker/index.ts';
import { writeObjectiveHeader } from '../../src/resolver/index.ts';
import type { ObjectiveConfig } from '../../src/validation/index.ts';
import { brokerWithRules } from './broker.ts';
import { type ModelServerStub, startModelServerStub } from './model-server-stub.ts';
import { type NginxProcess, startNginx } from './nginx.ts';
import { type SidecarProcess, sidecarArgs, startSidecarProcess } from './sidecar-process.ts';
import { tempDir } from './temp-dir.ts';
import { waitFor } from './wait.ts';

const EXAMPLE = join(import.meta.dir, '..', '..', 'examples', 'nginx', 'filament.conf');

/** A model-serving host without its proxy: a stand-in and its sidecar with the check endpoint. */
export interface SidecarHost {
  readonly name: string;
  readonly dir: string;
  readonly server: ModelServerStub;
  readonly sidecar: SidecarProcess;
  /** The check endpoint's unix socket. */
  readonly checkSocket: string;
  stop(): Promise<void>;
}

/** One model-serving host as the request path sees it: a stand-in, its sidecar, its nginx. */
export interface CheckedHost extends SidecarHost {
  readonly nginx: NginxProcess;
  /** The shipped nginx example, pointed at this host's stand-in and socket (no listen port set). */
  readonly example: string;
}

/**
 * Starts a stand-in serving `served` and `filament run` (replica `name`, tenant acme, following
 * `brokerUrl`) with its check endpoint, under `dir/name`; `config` adds config lines.
 */
export async function startSidecarHost(options: {
  readonly dir: string;
  readonly name: string;
  readonly brokerUrl: string;
  readonly served: readonly string[];
  readonly config?: readonly string[];
}): Promise<SidecarHost> {
  const dir = join(options.dir, options.name);
  await mkdir(dir, { recursive: true });
  const server = await startModelServerStub();
  server.served = options.served.map((id) => ({ id }));
  const checkSocket = join(dir, 'filament-check.sock');
  const config = join(dir, 'filament.toml');
  await writeFile(
    config,
    [
      '[api]',
      `socket = "${join(dir, 'api.sock')}"`,
      '[check]',
      `socket = "${checkSocket}"`,
      '[inventory]',
      'poll_interval_ms = 200',
      '[saturation]',
      `metrics_url = "${server.base}/metrics"`,
      'nvidia_smi = "off"',
      'warmup_ms = 0',
      ...(options.config ?? []),
    ].join('\n'),
  );
  const sidecar = startSidecarProcess(
    sidecarArgs({
      config,
      brokers: [options.brokerUrl],
      tenant: 'acme',
      replica: options.name,
      stateDir: join(dir, 'state'),
    }),
  );
  await sidecar.waitForLog((l) => l.msg === 'HTTP check endpoint listening', 'the check socket');
  return {
    name: options.name,
    dir,
    server,
    sidecar,
    checkSocket,
    stop: async () => {
      await sidecar.kill('SIGTERM');
      await server.close();
    },
  };
}

/**
 * A whole lone host in a fresh temp dir (named from `prefix`): a broker holding acme v1 and
 * {@linkcode startSidecarHost} `h1` serving llama-8b with payload validation always on.
 * `stop` ends the host and the broker and removes the dir.
 */
export async function startPayloadCheckingHost(prefix: string): Promise<SidecarHost> {
  const broker = await brokerWithRules();
  const dir = await tempDir(prefix);
  const cleanUp = async () => {
    await broker.stop();
    await dir.remove();
  };
  const host = await startSidecarHost({
    dir: dir.path,
    name: 'h1',
    brokerUrl: broker.url,
    served: ['llama-8b'],
    config: ['[validation]', 'payload_default = "always"'],
  }).catch(async (error: unknown) => {
    await cleanUp();
    throw error;
  });
  return {
    ...host,
    stop: async () => {
      await host.stop();
      await cleanUp();
    },
  };
}

/**
 * {@linkcode startSidecarHost}, with Debian's nginx running the shipped
 * examples/nginx/filament.conf — `edit` may change the example first — on a free port.
 */
export async function startCheckedHost(options: {
  readonly dir: string;
  readonly name: string;
  readonly brokerUrl: string;
  readonly served: readonly string[];
  readonly edit?: (example: string) => string;
  /** More nginx http {} content (another server block). */
  readonly extraNginx?: (example: string) => string;
}): Promise<CheckedHost> {
  const host = await startSidecarHost(options);
  const example = (options.edit ?? ((e) => e))(
    (await readFile(EXAMPLE, 'utf8'))
      .replace('server 127.0.0.1:8000;', `server ${host.server.base.replace('http://', '')};`)
      .replace('unix:/run/filament/filament-check.sock', `unix:${host.checkSocket}`),
  );
  const port = await freePort();
  const nginx = await startNginx(
    join(host.dir, 'nginx'),
    port,
    `${example.replace('listen 8080;', `listen 127.0.0.1:${port};`)}\n${options.extraNginx?.(example) ?? ''}`,
  );
  return {
    ...host,
    nginx,
    example,
    stop: async () => {
      await nginx.stop();
      await host.stop();
    },
  };
}

/** An ObjectiveConfig valid against test/helpers/rule-sets.ts's acme v1, but for `over`. */
export function acmeObjective(over: Partial<ObjectiveConfig> = {}): ObjectiveConfig {
  return {
    tenant: 'acme',
    objective: 'chat',
    model: 'llama-8b',
    modelVersion: '2026-10-01',
    ruleVersion: 1,
    schemaId: 'chat/v1',
    routingKey: 'acme.llama-8b',
    ...over,
  };
}

/**
 * Waits until a request carrying `config` passes `host`'s nginx (its sidecar has the rules and
 * has seen what the server has loaded); the last answer and nginx's log say why when it does not.
 */
export async function firstAllowed(host: CheckedHost, config: ObjectiveConfig): Promise<void> {
  let last = '';
  await waitFor(async () => {
    const response = await fetch(`http://127.0.0.1:${host.nginx.port}/v1/completions`, {
      method: 'POST',
      headers: { 'filament-objective': writeObjectiveHeader(config) },
      body: '{}',
    });
    last = `${response.status} ${await response.text()}`;
    return response.status === 200 || undefined;
  }, `a first allowed request through ${host.name}`).catch(async (error: Error) => {
    throw new Error(`${error.message}; last answer: ${last}\n${await host.nginx.errorLog()}`);
  });
}
