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

describe('filament status', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let socket: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-status-');
    socket = join(dir.path, 'api.sock');
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      `[api]\nsocket = "${socket}"\n\n[[models]]\nid = "llama-8b"\nversion = "2026-10-01"\nready = false\n\n[[models]]\nid = "qwen-7b"\nversion = "2026-09-15"\nready = false\n`,
    );
    sidecar = startSidecarProcess(
      sidecarArgs({
        config,
        brokers: [broker.url],
        tenant: 'acme',
        replica: 'host-9',
        stateDir: dir.path,
      }),
    );
    await sidecar.waitForLog((l) => l.msg === 'subscribed', 'the subscription');
  });

  afterAll(async () => {
    await sidecar.kill();
    await broker.stop();
    await dir.remove();
  });

  test('reports NOT_SERVING (exit 1) before rules, then SERVING with versions, broker and models', async () => {
    const before = await cli('status', '--socket', socket);
    expect(before.code).toBe(1);
    expect(before.out).toContain('host-9 (cluster gpu-east): NOT_SERVING');

    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(ruleSet('acme', 3)),
    });
    // The ACK (and so the status's "last ack") follows the apply once the set is on disk.
    let after = await cli('status', '--socket', socket);
    for (let i = 0; i < 100 && !after.out.includes('applied v3'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await cli('status', '--socket', socket);
    }
    // SERVING (rules applied) but neither model is ready, so nothing routed here can be served:
    // the replica is COLD, status says so and exits 1 (it exited 0 here, saying SERVING on a host
    // serving nothing).
    expect(after.code).toBe(1);
    expect(after.out).toContain('host-9 (cluster gpu-east): SERVING');
    expect(after.out).toMatch(
      /replica COLD, score \d\.\d\d: CANNOT SERVE: the replica is COLD: load balancers send it nothing/,
    );
    expect(after.out).toContain(`broker  connected ${broker.url}`);
    expect(after.out).toMatch(/acme\s+v3\s+v3\s+v3\s+-\s+0\/1 objectives\s+applied v3 at /);
    expect(after.out).toContain('models  from the [[models]] list of the config');
    expect(after.out).toContain(
      'cannot serve acme acme.qwen-7b: MODEL_NOT_READY: model "qwen-7b" version "2026-09-15" is loaded but not ready',
    );
    expect(after.out).toContain('rules   NOT SIGNATURE-CHECKED: no trusted keys configured');
    expect(after.out).toMatch(/qwen-7b\s+2026-09-15\s+not ready/);
  });

  test('--json gives the same facts to scripts', async () => {
    const result = await cli('status', '--socket', socket, '--json');
    const json = JSON.parse(result.out);
    expect(json).toMatchObject({
      health: 'SERVING',
      identity: { replica: 'host-9' },
      tenants: [{ tenant: 'acme', active_version: 3 }],
    });
  });

  test('says clearly when nothing answers', async () => {
    const result = await cli('status', '--socket', join(dir.path, 'nothing.sock'));
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `filament status: cannot reach the sidecar on ${join(dir.path, 'nothing.sock')}: there is no socket there (is filament running? try systemctl status filament, or --socket PATH / --config FILE)`,
    );
  });

  test('a socket that is there but dead is said in one sentence, not raw gRPC text', async () => {
    const dead = join(dir.path, 'dead.sock');
    const { createServer } = await import('node:net');
    const server = createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(dead, resolve));
    try {
      const result = await cli('status', '--socket', dead);
      expect(result.code).toBe(1);
      expect(result.err.split('\n')).toHaveLength(1);
      expect(result.err).toStartWith(
        `filament status: cannot reach the sidecar on ${dead}: it does not answer (`,
      );
    } finally {
      server.close();
    }
  });
});
