import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/broker/index.ts';
import { runCli } from '../../src/cli/index.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** The model ids `filament status --json` reports. */
async function servedModels(socket: string): Promise<string[]> {
  const out: string[] = [];
  await runCli(['status', '--socket', socket, '--json'], {
    out: (t) => out.push(t),
    err: () => {},
  });
  const status = JSON.parse(out.join('\n')) as { models: Array<{ id: string }> };
  return status.models.map((m) => m.id);
}

describe('filament run: SIGHUP reloads the config', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let socket: string;
  let configFile: string;
  const configText = (extra: string) =>
    `[api]\nsocket = "${socket}"\n\n[log]\nlevel = "info"\n\n[[models]]\nid = "llama-8b"\nversion = "2026-10-01"\n${extra}`;

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
        tenant: 'acme',
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

  test('applies models and log level live, and names what needs a restart', async () => {
    expect(await servedModels(socket)).toEqual(['llama-8b']);
    await writeFile(
      configFile,
      configText(
        '\n[[models]]\nid = "qwen-7b"\nversion = "2026-09-15"\n\n[broker]\nkeepalive_seconds = 12\n',
      ).replace('level = "info"', 'level = "debug"'),
    );
    process.kill(sidecar.pid, 'SIGHUP');
    const reloaded = await sidecar.waitForLog((l) => l.msg === 'config reloaded', 'the reload');
    expect(reloaded.applied).toEqual(['log.level', 'models']);
    expect(reloaded.needsRestart).toEqual(['broker.keepaliveSeconds']);
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
