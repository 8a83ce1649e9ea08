import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { sidecarArgs, startSidecarProcess } from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// Found by an outside probe (issue 11, finding 3): two sidecars on one state directory restored
// each other's rules. Now the directory is locked, and a record of another stream is set aside.

describe('a state directory shared by mistake', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir();
  });
  afterAll(async () => {
    await broker?.stop();
    await dir?.remove();
  });

  const start = (stateDir: string, prefix: string, brokers = [broker.url]) =>
    startSidecarProcess([
      ...sidecarArgs({ brokers, tenant: 'acme', replica: 'host-1', stateDir }),
      '--topic-prefix',
      prefix,
      '--grpc-socket',
      join(dir.path, `${prefix.replace('/', '-')}-${Math.random().toString(36).slice(2)}.sock`),
    ]);

  test('a second sidecar on a locked state directory refuses to start, naming the holder', async () => {
    const stateDir = join(dir.path, 'locked');
    const first = start(stateDir, 'prod/v1');
    await first.waitForLog((l) => l.msg === 'sidecar started', 'the first sidecar');
    const second = start(stateDir, 'staging/v1');
    expect(await second.exited).toBe(1);
    const refusal = second.logs.map((l) => l.msg).join('\n');
    expect(refusal).toContain(`in use by pid ${first.pid}`);
    expect(refusal).toContain('replica host-1, topic prefix prod/v1');
    expect(await first.kill('SIGTERM')).toBe(0);
    // Released on a clean stop: the next one starts.
    const third = start(stateDir, 'prod/v1');
    await third.waitForLog((l) => l.msg === 'sidecar started', 'the next sidecar');
    expect(await third.kill('SIGKILL')).toBe('SIGKILL');
    // A holder that is gone (kill -9) does not block the next start; it is taken over, and said so.
    const fourth = start(stateDir, 'prod/v1');
    await fourth.waitForLog(
      (l) => l.msg === 'took over the state directory lock of a sidecar that is gone',
      'take-over',
    );
    await fourth.waitForLog((l) => l.msg === 'sidecar started', 'the fourth sidecar');
    expect(await fourth.kill('SIGTERM')).toBe(0);
  }, 60_000);

  test("a restart never serves another stream's rules left in its state directory", async () => {
    const stateDir = join(dir.path, 'mixed');
    const publish = (prefix: string, version: number) =>
      publishOnce({
        url: broker.url,
        topic: rulesTopic(prefix, 'acme'),
        payload: jsonBytes(ruleSet('acme', version)),
        contentType: 'application/json',
      });
    // prod applies v5 and stops.
    await publish('prod/v1', 5);
    const prod = start(stateDir, 'prod/v1');
    await prod.waitForLog((l) => l.msg === 'applied rule set' && l.version === 5, 'prod v5');
    expect(await prod.kill('SIGTERM')).toBe(0);
    // Someone runs staging on the same directory: it must not restore prod's v5 either.
    await publish('staging/v1', 3);
    const staging = start(stateDir, 'staging/v1');
    await staging.waitForLog((l) => l.msg.includes('another stream set aside'), 'set aside');
    await staging.waitForLog((l) => l.msg === 'applied rule set' && l.version === 3, 'staging v3');
    expect(await staging.kill('SIGTERM')).toBe(0);
    // prod restarts with its broker unreachable: staging's v3 is set aside, not served.
    const socket = join(dir.path, 'prod-restart.sock');
    const restarted = startSidecarProcess([
      ...sidecarArgs({
        brokers: ['mqtt://127.0.0.1:1'],
        tenant: 'acme',
        replica: 'host-1',
        stateDir,
      }),
      '--topic-prefix',
      'prod/v1',
      '--grpc-socket',
      socket,
    ]);
    const aside = await restarted.waitForLog(
      (l) => l.msg.includes('another stream set aside'),
      'set aside on restart',
    );
    expect(String(aside.reason)).toContain('"staging/v1"');
    await restarted.waitForLog((l) => l.msg === 'sidecar started', 'restarted');
    expect(restarted.logs.some((l) => l.msg === 'restored last-known-good rules')).toBe(false);
    const client = grpcClients(`unix:${socket}`);
    expect((await client.check('')).status).toBe('NOT_SERVING');
    client.close();
    expect(await restarted.kill('SIGTERM')).toBe(0);
    const files = await readdir(join(stateDir, 'rules'));
    expect(files.filter((f) => f.endsWith('.foreign')).sort()).toEqual([
      'acme.hwm.foreign',
      'acme.state.foreign',
    ]);
  }, 60_000);
});
