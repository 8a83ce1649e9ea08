import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { cli } from '../helpers/cli.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

interface Status {
  models: Array<{ id: string }>;
  tenants: Array<{ tenant: string; active_version: number | null }>;
}

/** What `filament status --json` reports. */
async function status(socket: string): Promise<Status> {
  return JSON.parse((await cli('status', '--socket', socket, '--json')).out) as Status;
}

async function servedModels(socket: string): Promise<string[]> {
  return (await status(socket)).models.map((m) => m.id);
}

describe('filament run: SIGHUP reloads the config', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let socket: string;
  let configFile: string;
  const configText = (extra: string, tenants = '"acme"') =>
    `[api]\nsocket = "${socket}"\n\n[log]\nlevel = "info"\n\n[rules]\ntenants = [${tenants}]\n\n[[models]]\nid = "llama-8b"\nversion = "2026-10-01"\n${extra}`;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-reload-');
    socket = join(dir.path, 'api.sock');
    configFile = join(dir.path, 'filament.toml');
    await writeFile(configFile, configText(''));
    sidecar = startSidecarProcess(
      sidecarArgs({
        config: configFile,
        brokers: [broker.url],
        stateDir: dir.path,
      }),
    );
    await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'start-up');
  });

  afterAll(async () => {
    await sidecar.kill();
    await broker.stop();
    await dir.remove();
  });

  test('applies models, tenants, thresholds and log level live; names what needs a restart', async () => {
    expect(await servedModels(socket)).toEqual(['llama-8b']);
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'globex'),
      payload: jsonBytes(ruleSet('globex', 7)),
    });
    const models = '\n[[models]]\nid = "qwen-7b"\nversion = "2026-09-15"\n';
    const restartOnly = '\n[broker]\nkeepalive_seconds = 12\n';
    const thresholds = '\n[saturation]\nmax_queue = 4\n';
    await writeFile(
      configFile,
      configText(models + restartOnly + thresholds, '"acme", "globex"').replace(
        'level = "info"',
        'level = "debug"',
      ),
    );
    process.kill(sidecar.pid, 'SIGHUP');
    const reloaded = await sidecar.waitForLog((l) => l.msg === 'config reloaded', 'the reload');
    expect(reloaded.applied).toEqual([
      'log.level',
      'models',
      'rules.tenants',
      'saturation.thresholds.maxQueue',
    ]);
    expect(reloaded.needsRestart).toEqual(['broker.keepaliveSeconds']);
    // The new tenant is subscribed at once: its retained rule set arrives and is applied.
    await waitFor(async () => {
      const globex = (await status(socket)).tenants.find((t) => t.tenant === 'globex');
      return globex?.active_version === 7 ? true : undefined;
    }, 'globex v7 applied after the reload');
    await sidecar.waitForLog(
      (l) => l.msg === 'config changes need a restart to take effect',
      'the restart warning',
    );
    expect(await servedModels(socket)).toEqual(['llama-8b', 'qwen-7b']);
  });

  test('refuses a broken file with its reason and keeps running on the old config', async () => {
    await writeFile(configFile, `${configText('')}\n[identity]\nzone = "nope"\n`);
    process.kill(sidecar.pid, 'SIGHUP');
    const refused = await sidecar.waitForLog(
      (l) => l.msg === 'config reload refused; keeping the running config',
      'the refusal',
    );
    expect(String(refused.error)).toContain('identity.zone: unknown field "zone"');
    expect(await servedModels(socket)).toEqual(['llama-8b', 'qwen-7b']);
  });
});

describe('filament run: signals during start-up', () => {
  let dir: { path: string; remove(): Promise<void> };
  beforeAll(async () => {
    dir = await tempDir('filament-early-signal-');
  });
  afterAll(() => dir.remove());

  // The first log line comes from inside start-up, before the sidecar is ready.
  const firstLine = (p: SidecarProcess) => p.waitForLog(() => true, 'the first log line');
  const start = (name: string) =>
    startSidecarProcess(
      sidecarArgs({
        brokers: ['mqtt://127.0.0.1:9'],
        tenant: 'acme',
        replica: name,
        stateDir: join(dir.path, name),
      }),
    );

  test('SIGTERM while starting stops cleanly (exit 0), not by the default action', async () => {
    const p = start('early-term');
    await firstLine(p);
    expect(await p.kill('SIGTERM')).toBe(0);
    expect(p.logs.some((l) => l.msg === 'sidecar stopped')).toBe(true);
  });

  test('SIGHUP while starting does not kill; the reload runs once ready', async () => {
    const p = start('early-hup');
    await firstLine(p);
    process.kill(p.pid, 'SIGHUP');
    await p.waitForLog((l) => l.msg === 'config reloaded', 'the reload');
    expect(await p.kill('SIGTERM')).toBe(0);
  });
});
