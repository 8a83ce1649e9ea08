import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import type { BrokerConnection, InboundMessage } from '../../src/mqtt/index.ts';
import { waitFor } from '../helpers/wait.ts';

/** A broker and a way to open connections to it, for {@linkcode messageBusContract}. */
export interface BusHarness {
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new connection, not started. */
  connection(): BrokerConnection;
}

const text = (m: InboundMessage) => new TextDecoder().decode(m.payload);

/**
 * What every {@linkcode BrokerConnection} must do, run against each implementation (the
 * in-memory broker of the unit tests, and MqttConnection on mosquitto), so the unit tests built
 * on the in-memory one stand on the same ground as production.
 */
export function messageBusContract(name: string, harness: BusHarness): void {
  describe(`BrokerConnection contract: ${name}`, () => {
    const open: BrokerConnection[] = [];
    let topicCounter = 0;
    const topic = (leaf = '') => `contract/${++topicCounter}${leaf}`;

    beforeAll(() => harness.setup());
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.stop()));
    });
    afterAll(() => harness.teardown());

    async function connected(): Promise<BrokerConnection> {
      const bus = harness.connection();
      open.push(bus);
      bus.start();
      await waitFor(() => (bus.status().state === 'connected' ? true : undefined), 'connected');
      return bus;
    }

    function collect(bus: BrokerConnection, filter: string): InboundMessage[] {
      const got: InboundMessage[] = [];
      bus.subscribe(filter, async (m) => {
        got.push(m);
      });
      return got;
    }

    test('a retained message reaches a later subscriber, marked retained, with its content type', async () => {
      const t = topic();
      const publisher = await connected();
      await publisher.publishRetained(t, 'v1', { contentType: 'application/json' });
      const subscriber = await connected();
      const got = collect(subscriber, t);
      await waitFor(() => got[0], 'the retained message');
      expect(got[0]).toMatchObject({ topic: t, retained: true, contentType: 'application/json' });
      expect(text(got[0] as InboundMessage)).toBe('v1');
    });

    test('a live message reaches a subscriber, not marked retained', async () => {
      const t = topic();
      const subscriber = await connected();
      const got = collect(subscriber, t);
      const publisher = await connected();
      await new Promise((resolve) => setTimeout(resolve, 100)); // the SUBSCRIBE is on the wire
      await publisher.publishRetained(t, 'live');
      await waitFor(() => got[0], 'the live message');
      expect(got[0]?.retained).toBe(false);
    });

    test('+ in a filter matches one level', async () => {
      const base = topic();
      const subscriber = await connected();
      const got = collect(subscriber, `${base}/+`);
      const publisher = await connected();
      await publisher.publishRetained(`${base}/a`, 'a');
      await publisher.publishRetained(`${base}/a/deeper`, 'no');
      await publisher.publishRetained(`${base}/b`, 'b');
      await waitFor(() => (got.length >= 2 ? true : undefined), 'two messages');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(got.map(text).sort()).toEqual(['a', 'b']);
    });

    test('messages come one at a time, in order: the next waits for the handler', async () => {
      const t = topic();
      const subscriber = await connected();
      const seen: string[] = [];
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      subscriber.subscribe(t, async (m) => {
        seen.push(`start ${text(m)}`);
        if (text(m) === '1') await gate;
        seen.push(`end ${text(m)}`);
      });
      const publisher = await connected();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await publisher.publishRetained(t, '1');
      await publisher.publishRetained(t, '2');
      await waitFor(() => (seen.length > 0 ? true : undefined), 'the first message');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toEqual(['start 1']);
      release();
      await waitFor(() => (seen.length === 4 ? true : undefined), 'both messages');
      expect(seen).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    });

    test('after unsubscribe nothing more arrives', async () => {
      const t = topic();
      const subscriber = await connected();
      const got = collect(subscriber, t);
      const publisher = await connected();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await publisher.publishRetained(t, 'one');
      await waitFor(() => got[0], 'the first message');
      subscriber.unsubscribe(t);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await publisher.publishRetained(t, 'two');
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(got.map(text)).toEqual(['one']);
    });

    test('retained publishes made before connecting are sent on connect, the newest per topic', async () => {
      const t = topic();
      const subscriber = await connected();
      const got = collect(subscriber, t);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const late = harness.connection();
      open.push(late);
      void late.publishRetained(t, 'older');
      void late.publishRetained(t, 'newest');
      late.start();
      await waitFor(() => got[0], 'the queued message');
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(got.map(text)).toEqual(['newest']);
    });

    test('status: idle, connected (told to listeners), then stopped', async () => {
      const bus = harness.connection();
      open.push(bus);
      expect(bus.status().state).toBe('idle');
      const states: string[] = [];
      bus.onStatus((s) => states.push(s.state));
      bus.start();
      await waitFor(() => (bus.status().state === 'connected' ? true : undefined), 'connected');
      await bus.stop();
      expect(bus.status().state).toBe('stopped');
      expect(states).toContain('connected');
      expect(states.at(-1)).toBe('stopped');
    });
  });
}
