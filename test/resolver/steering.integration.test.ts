import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { Resolver } from '../../src/resolver/index.ts';
import { cli } from '../helpers/cli.ts';
import {
  fastSaturationConfig,
  type ModelServerStub,
  startModelServerStub,
  vllmMetrics,
} from '../helpers/model-server-stub.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

describe('the resolver steers by saturation reports (two real sidecars, one broker)', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  const servers: Record<string, ModelServerStub> = {};
  const sidecars: Record<string, SidecarProcess> = {};
  let resolver: Resolver;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-steer-');
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(ruleSet('acme', 1)),
    });
    for (const host of ['host-a', 'host-b']) {
      const server = await startModelServerStub();
      server.ready = true;
      server.metrics = vllmMetrics(0);
      servers[host] = server;
      const config = join(dir.path, `${host}.toml`);
      await writeFile(config, fastSaturationConfig(server));
      sidecars[host] = startSidecarProcess(
        sidecarArgs({
          config,
          brokers: [broker.url],
          tenant: 'acme',
          replica: host,
          stateDir: join(dir.path, host),
        }),
      );
    }
    resolver = new Resolver({ urls: [broker.url] });
    resolver.start();
  });

  afterAll(async () => {
    await resolver.stop();
    await Promise.all(Object.values(sidecars).map((p) => p.kill('SIGKILL')));
    await Promise.all(Object.values(servers).map((s) => s.close()));
    await broker.stop();
    await dir.remove();
  });

  const state = (host: string) =>
    resolver.replicas().find((r) => r.report.replica === host)?.report.state;
  const picks = (n: number) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const replica = resolver.pick('gpu-east') ?? 'none';
      counts[replica] = (counts[replica] ?? 0) + 1;
    }
    return counts;
  };

  test('spreads traffic over both ready hosts, then stops picking the saturated one', async () => {
    await waitFor(
      () => (state('host-a') === 'READY' && state('host-b') === 'READY' ? true : undefined),
      'both hosts READY',
    );
    const both = picks(400);
    expect(both['host-a']).toBeGreaterThan(50);
    expect(both['host-b']).toBeGreaterThan(50);

    (servers['host-b'] as ModelServerStub).metrics = vllmMetrics(10);
    await waitFor(() => (state('host-b') === 'SATURATED' ? true : undefined), 'host-b SATURATED');
    expect(picks(400)).toEqual({ 'host-a': 400 });

    (servers['host-b'] as ModelServerStub).metrics = vllmMetrics(0);
    await waitFor(() => (state('host-b') === 'READY' ? true : undefined), 'host-b READY again');
    expect(picks(400)['host-b']).toBeGreaterThan(50);
  });

  test('filament top shows both hosts, lowest score first', async () => {
    const { code, out } = await cli('top', '--broker', broker.url, '--once', '--wait', '600');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(
      /^REPLICA\s+CLUSTER\s+STATE\s+SCORE\s+QUEUE\s+RUN\s+KV%\s+GPU%\s+LAT\s+RULES\s+AGE$/,
    );
    expect(
      lines.filter((l) =>
        /^host-[ab]\s+gpu-east\s+READY\s+0\.\d\d\s+0\s+1\s+10\s+-\s+-\s+acme:v1\s+\d/.test(l),
      ),
    ).toHaveLength(2);
  });

  test('marks a host killed with -9 OFFLINE through its will, and stops picking it', async () => {
    await (sidecars['host-a'] as SidecarProcess).kill('SIGKILL');
    await waitFor(() => (state('host-a') === 'OFFLINE' ? true : undefined), 'host-a OFFLINE');
    expect(picks(200)).toEqual({ 'host-b': 200 });
  });
});
