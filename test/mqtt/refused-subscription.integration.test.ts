import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/log/index.ts';
import { MqttConnection, publishOnce } from '../../src/mqtt/index.ts';
import { type NatsBroker, startNats } from '../helpers/nats.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../helpers/wait.ts';

// A broker that refuses a subscription (a SUBACK failure code: here nats-server's permissions; a
// three-node nats cluster with a thousand clients connecting at once refused some too, seen in
// the rollout benchmark) must not leave a host connected and deaf: the connection asks again,
// with backoff, until the broker grants it.
const TOPIC = 'filament/v1/rules/acme';
let broker: NatsBroker;
let dir: Awaited<ReturnType<typeof tempDir>>;
let auth: string;
const permissions = (deny: string) =>
  `authorization { users = [ { user: host, password: unused, permissions: { subscribe: { deny: [${deny}] } } } ] }\nno_auth_user: host\n`;

beforeAll(async () => {
  dir = await tempDir();
  auth = join(dir.path, 'auth.conf');
  await writeFile(auth, permissions('"filament.>"'));
  broker = await startNats({ include: auth });
});
afterAll(async () => {
  await broker.stop();
  await dir.remove();
});

test('a subscription the broker refuses is asked for again until it is granted', async () => {
  const logs: Array<Record<string, unknown>> = [];
  const connection = new MqttConnection({
    urls: [broker.url],
    clientId: `refused-${process.pid}`,
    protocolVersion: 4,
    cleanSession: true,
    backoff: { initialMs: 100, maxMs: 400, multiplier: 2, jitter: 0 },
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
  });
  const received: string[] = [];
  connection.subscribe(TOPIC, async (message) => {
    received.push(new TextDecoder().decode(message.payload));
  });
  connection.start();
  try {
    // mqtt.js reports a SUBACK failure code as an error ("Subscribe error: Unspecified error").
    const refusals = () =>
      logs.filter((l) => l.msg === 'subscribe failed' || l.msg === 'broker refused subscriptions');
    await waitFor(() => (refusals().length >= 2 ? true : undefined), 'two refusals');
    expect(refusals()[0]).toMatchObject({ level: 'error', topics: [TOPIC], retryInMs: 100 });
    expect(refusals()[1]).toMatchObject({ retryInMs: 200 });
    // A second tenant followed meanwhile, refused too: both are asked for again, neither dropped.
    connection.subscribe(`${TOPIC}-2`, async (message) => {
      received.push(`2:${new TextDecoder().decode(message.payload)}`);
    });
    await waitFor(
      () => (refusals().some((l) => String(l.topics) === `${TOPIC}-2`) ? true : undefined),
      'the second topic refused',
    );

    // The operator fixes the permissions; nats-server reloads them on SIGHUP, keeping clients.
    await writeFile(auth, permissions('"nothing.here"'));
    broker.reload();
    const granted = (topic: string) =>
      logs.some((l) => l.msg === 'subscribed' && (l.topics as string[]).includes(topic));
    await waitFor(
      () => (granted(TOPIC) && granted(`${TOPIC}-2`) ? true : undefined),
      'both subscriptions granted',
    );
    expect(connection.status().reconnects).toBe(0);
    await publishOnce({ url: broker.url, topic: TOPIC, payload: 'v2', protocolVersion: 4 });
    await publishOnce({ url: broker.url, topic: `${TOPIC}-2`, payload: 'v7', protocolVersion: 4 });
    await waitFor(
      () => (received.includes('v2') && received.includes('2:v7') ? true : undefined),
      'both messages delivered',
    );
  } finally {
    await connection.stop();
  }
});
