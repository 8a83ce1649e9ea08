import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import { AckWatcher } from '../../src/demo/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** A broker the contract suite can run against. */
export interface ContractBroker {
  readonly url: string;
  /** Stop and start again with nothing kept (no retained messages, no sessions). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const PREFIX = 'filament/v1';
const MAX_BYTES = 64 * 1024;

/**
 * Following the rule stream, as every broker filament supports must allow it: run once per
 * broker and protocol (mosquitto on MQTT 5 and 3.1.1, nats-server's MQTT listener on 3.1.1).
 */
export function followContract(
  name: string,
  startBroker: () => Promise<ContractBroker>,
  protocol: '5' | '3.1.1',
): void {
  describe(`following the rule stream: ${name}`, () => {
    let broker: ContractBroker;
    let watcher: AckWatcher;
    let workDir: { path: string; remove(): Promise<void> };
    const running: SidecarProcess[] = [];
    let tenantCounter = 0;
    const version = protocol === '5' ? 5 : 4;

    beforeAll(async () => {
      broker = await startBroker();
      watcher = await AckWatcher.connect(broker.url, PREFIX, version);
      workDir = await tempDir();
    });

    afterAll(async () => {
      await Promise.all(running.map((p) => p.kill('SIGKILL')));
      await watcher?.close();
      await broker?.stop();
      await workDir?.remove();
    });

    const publish = (tenant: string, payload: Uint8Array | string, contentType?: string) =>
      publishOnce({
        url: broker.url,
        topic: rulesTopic(PREFIX, tenant),
        payload,
        protocolVersion: version,
        ...(contentType ? { contentType } : {}),
      });

    const start = async (tenant: string) => {
      const configFile = join(workDir.path, `${tenant}.toml`);
      await writeFile(
        configFile,
        `[rules]\ntenants = ["${tenant}"]\nmax_message_bytes = ${MAX_BYTES}\n[broker.reconnect]\ninitial_ms = 400\nmax_ms = 2000\n`,
      );
      const sidecar = startSidecarProcess(
        sidecarArgs({
          config: configFile,
          brokers: [broker.url],
          replica: `replica-${tenant}`,
          stateDir: join(workDir.path, tenant),
          protocol,
        }),
      );
      running.push(sidecar);
      await sidecar.waitForLog((l) => l.msg === 'subscribed', 'the sidecar to subscribe');
      return sidecar;
    };

    const ackFor = (tenant: string, receivedVersion: number | null, status?: string) =>
      watcher.next(
        (a) =>
          a.tenant === tenant &&
          a.receivedVersion === receivedVersion &&
          (status === undefined || a.status === status),
      );

    const newTenant = () => `t${++tenantCounter}-${protocol === '5' ? 'v5' : 'v311'}`;

    test('applies a rule set retained before the sidecar started, and acks it', async () => {
      const tenant = newTenant();
      await publish(tenant, jsonBytes(ruleSet(tenant, 3)));
      const sidecar = await start(tenant);
      const ack = await ackFor(tenant, 3);
      expect(ack).toMatchObject({
        status: 'applied',
        activeVersion: 3,
        persisted: true,
        replica: `replica-${tenant}`,
        cluster: 'gpu-east',
      });
      await sidecar.kill();
      expect(await sidecar.exited).toBe(0);
    });

    test('applies a newer version live and acks it', async () => {
      const tenant = newTenant();
      await publish(tenant, jsonBytes(ruleSet(tenant, 1)));
      const sidecar = await start(tenant);
      await ackFor(tenant, 1, 'applied');
      await publish(tenant, jsonBytes(ruleSet(tenant, 2)));
      expect(await ackFor(tenant, 2)).toMatchObject({ status: 'applied', activeVersion: 2 });
      const applied = await sidecar.waitForLog(
        (l) => l.msg === 'applied rule set' && l.version === 2,
        'the apply log',
      );
      expect(applied).toMatchObject({ tenant, previousVersion: 1, subsystem: 'rules' });
      await sidecar.kill();
    });

    test('NACKs each bad message with its reason and keeps the active version', async () => {
      const tenant = newTenant();
      const sidecar = await start(tenant);
      await publish(tenant, jsonBytes(ruleSet(tenant, 5)));
      await ackFor(tenant, 5, 'applied');
      const bad: Array<[string, Uint8Array, string, string | null, number | null]> = [
        [
          'malformed JSON',
          new TextEncoder().encode('{"tenant": "x", "version": 6,'),
          'MALFORMED',
          '',
          null,
        ],
        [
          'malformed msgpack',
          Uint8Array.from([0x83, 0xa6, 0x74, 0x65, 0x6e]),
          'MALFORMED',
          '',
          null,
        ],
        [
          'oversize',
          jsonBytes({ ...ruleSet(tenant, 6), description: 'x'.repeat(MAX_BYTES) }),
          'TOO_LARGE',
          '',
          null,
        ],
        [
          '__proto__',
          new TextEncoder().encode(
            JSON.stringify(ruleSet(tenant, 6)).replace('{', '{"__proto__":{"admin":true},'),
          ),
          'FORBIDDEN_KEY',
          '/__proto__',
          null,
        ],
        [
          'unknown field',
          jsonBytes({ ...ruleSet(tenant, 6), colour: 'blue' }),
          'SCHEMA',
          '/colour',
          6,
        ],
        [
          'dangling reference',
          jsonBytes(
            ruleSet(tenant, 6, { objectives: [{ id: 'chat', defaultModel: 'mistral-large' }] }),
          ),
          'DANGLING_REFERENCE',
          '/objectives/0/defaultModel',
          6,
        ],
        ['version regression', jsonBytes(ruleSet(tenant, 4)), 'VERSION_REGRESSION', '/version', 4],
      ];
      for (const [label, payload, code, path, received] of bad) {
        await publish(tenant, payload);
        const nack = await ackFor(tenant, received, 'rejected').catch((error: Error) => {
          throw new Error(
            `${label}: ${error.message}; logs: ${JSON.stringify(sidecar.logs.slice(-2))}`,
          );
        });
        expect({ label, code: nack.code, path: nack.path, active: nack.activeVersion }).toEqual({
          label,
          code,
          path: path ?? '',
          active: 5,
        });
        expect(nack.reason?.length ?? 0).toBeGreaterThan(10);
      }
      // Still healthy: the next good version applies on top of v5.
      await publish(tenant, pack(ruleSet(tenant, 7)));
      expect(await ackFor(tenant, 7)).toMatchObject({ status: 'applied', activeVersion: 7 });
      await sidecar.kill();
    });

    test('reconnects after a broker restart without persistence and applies what was published meanwhile', async () => {
      const tenant = newTenant();
      await publish(tenant, jsonBytes(ruleSet(tenant, 1)));
      const sidecar = await start(tenant);
      await ackFor(tenant, 1, 'applied');
      await broker.restart();
      await sidecar.waitForLog((l) => l.msg === 'disconnected from broker', 'the disconnect');
      await publish(tenant, jsonBytes(ruleSet(tenant, 2)));
      expect(await ackFor(tenant, 2, 'applied')).toMatchObject({ activeVersion: 2 });
      const reconnected = await sidecar.waitForLog(
        (l) => l.msg === 'connected to broker' && l.reconnects === 1,
        'the reconnect',
      );
      expect(reconnected.sessionPresent).toBe(false);
      expect(sidecar.logs.filter((l) => l.msg === 'subscribed').length).toBeGreaterThanOrEqual(2);
      await sidecar.kill();
    });
  });
}
