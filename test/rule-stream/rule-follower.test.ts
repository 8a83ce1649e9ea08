import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { StateStore } from '../../src/last-known-good/index.ts';
import { ackTopic, InMemoryBroker, rulesTopic } from '../../src/mqtt/index.ts';
import { type AckDocument, RuleFollower } from '../../src/rule-stream/index.ts';
import { RuleApplier, RuleStore } from '../../src/rules/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { jsonBytes, ruleSet } from '../helpers/rule-sets.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// Unit tests: the follower against the in-memory broker and a state directory in /tmp. What only
// a real broker can show (sessions, reconnection, QoS) is in the follow-*.integration.test.ts contract suites.

const PREFIX = 'filament/v1';
const JSON_TYPE = 'application/json';

function decodeAck(payload: Uint8Array): AckDocument {
  return JSON.parse(new TextDecoder().decode(payload)) as AckDocument;
}

describe('RuleFollower', () => {
  let dir: { path: string; remove(): Promise<void> };
  let broker: InMemoryBroker;
  let publisher: ReturnType<InMemoryBroker['connect']>;

  beforeEach(async () => {
    dir = await tempDir();
    broker = new InMemoryBroker();
    publisher = broker.connect();
    publisher.start();
  });
  afterEach(() => dir.remove());

  /** A follower for `tenants` on its own connection; `state` replaces the state directory. */
  async function follower(
    options: {
      tenants?: string[];
      state?: ConstructorParameters<typeof RuleFollower>[0]['state'];
    } = {},
  ) {
    const store = new RuleStore(3);
    const clock = new FakeClock();
    const applier = new RuleApplier(store, {
      limits: { maxBytes: 64 * 1024, maxDepth: 16 },
      now: () => clock.now(),
    });
    const disk = new StateStore(dir.path);
    await disk.open();
    const bus = broker.connect();
    bus.start();
    const f = new RuleFollower({
      bus,
      applier,
      store,
      state: options.state ?? disk,
      topicPrefix: PREFIX,
      replica: 'host-1',
      cluster: 'gpu-east',
      tenants: options.tenants ?? ['acme'],
      clock,
    });
    return { f, store, bus, disk, applier };
  }

  const publishRules = (tenant: string, doc: unknown) =>
    publisher.publishRetained(rulesTopic(PREFIX, tenant), jsonBytes(doc), {
      contentType: JSON_TYPE,
    });
  const lastAck = (tenant: string) => {
    const m = broker.retainedOn(ackTopic(PREFIX, tenant, 'host-1'));
    return m && decodeAck(m.payload);
  };

  test('applies a retained rule set on start, persists it, and ACKs it retained', async () => {
    await publishRules('acme', ruleSet('acme', 3));
    const { f, store, bus, disk } = await follower();
    await f.restore();
    f.start();
    await bus.settled();
    expect(store.active('acme')?.version).toBe(3);
    expect(lastAck('acme')).toMatchObject({
      status: 'applied',
      receivedVersion: 3,
      activeVersion: 3,
      persisted: true,
      replica: 'host-1',
    });
    expect((await disk.load('acme')).record?.header.version).toBe(3);
    expect(f.lastAck('acme')?.status).toBe('applied');
  });

  test('NACKs a bad set with its code and path, and keeps the good one', async () => {
    const { f, store, bus } = await follower();
    f.start();
    await publishRules('acme', ruleSet('acme', 2));
    await publishRules('acme', { ...ruleSet('acme', 3), owner: 'bob' });
    await bus.settled();
    expect(store.active('acme')?.version).toBe(2);
    expect(lastAck('acme')).toMatchObject({
      status: 'rejected',
      receivedVersion: 3,
      activeVersion: 2,
      code: 'SCHEMA',
      path: '/owner',
    });
    await publishRules('acme', ruleSet('acme', 1));
    await bus.settled();
    expect(lastAck('acme')).toMatchObject({ status: 'rejected', code: 'VERSION_REGRESSION' });
    expect(store.active('acme')?.version).toBe(2);
  });

  test('the same version again is unchanged, and tells ACK listeners every decision', async () => {
    const { f, bus } = await follower();
    const seen: string[] = [];
    f.onAck((ack) => seen.push(`${ack.receivedVersion}:${ack.status}`));
    f.start();
    await publishRules('acme', ruleSet('acme', 4));
    await publishRules('acme', ruleSet('acme', 4));
    await bus.settled();
    expect(seen).toEqual(['4:applied', '4:unchanged']);
  });

  test('restores last-known-good from disk before any broker, with its version floor', async () => {
    const first = await follower();
    first.f.start();
    await publishRules('acme', ruleSet('acme', 5));
    await first.bus.settled();
    await first.bus.stop();

    const restarted = await follower();
    await restarted.f.restore();
    expect(restarted.store.active('acme')?.version).toBe(5);
    expect(restarted.store.highWater('acme')).toBe(5);
  });

  test('an applied set that cannot be persisted is ACKed as not durable, and stays applied', async () => {
    const failing = {
      load: async () => ({ record: undefined, highWater: 0, problems: [], source: 'none' }),
      save: async () => {
        throw new Error('ENOSPC: no space left on device');
      },
      discard: async () => {},
    } as unknown as ConstructorParameters<typeof RuleFollower>[0]['state'];
    const { f, store, bus } = await follower({ state: failing });
    await f.restore();
    f.start();
    await publishRules('acme', ruleSet('acme', 2));
    await bus.settled();
    expect(store.active('acme')?.version).toBe(2);
    expect(lastAck('acme')).toMatchObject({ status: 'applied', persisted: false });
    expect(lastAck('acme')?.reason).toContain('ENOSPC');
  });

  test('follows a new tenant list: added tenants restored then subscribed, dropped ones left', async () => {
    await publishRules('acme', ruleSet('acme', 1));
    await publishRules('globex', ruleSet('globex', 7));
    const { f, store, bus } = await follower({ tenants: ['acme'] });
    f.start();
    await bus.settled();
    expect(store.active('globex')).toBeUndefined();
    await f.followTenants(['globex']);
    await bus.settled();
    expect(store.active('globex')?.version).toBe(7);
    await publishRules('acme', ruleSet('acme', 2));
    await bus.settled();
    // Unsubscribed: acme keeps the rules it had, and is not told of v2.
    expect(store.active('acme')?.version).toBe(1);
  });

  test('stop unsubscribes; rules stay loaded', async () => {
    const { f, store, bus } = await follower();
    f.start();
    await publishRules('acme', ruleSet('acme', 1));
    await bus.settled();
    f.stop();
    await publishRules('acme', ruleSet('acme', 2));
    await bus.settled();
    expect(store.active('acme')?.version).toBe(1);
  });
});
