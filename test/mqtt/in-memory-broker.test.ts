import { describe, expect, test } from 'bun:test';
import { InMemoryBroker } from '../../src/mqtt/index.ts';
import { messageBusContract } from './message-bus-contract.ts';

let broker = new InMemoryBroker();
messageBusContract('the in-memory broker', {
  setup: async () => {
    broker = new InMemoryBroker();
  },
  teardown: async () => {},
  connection: () => broker.connect(),
});

describe('the in-memory broker, beyond the contract', () => {
  test('a client that vanishes leaves its will; one that stops cleanly does not', async () => {
    const b = new InMemoryBroker();
    const will = { topic: 'w', payload: new TextEncoder().encode('gone'), retain: true };
    const vanishing = b.connect({ will });
    vanishing.start();
    vanishing.crash();
    expect(b.retainedOn('w')?.will).toBe(true);
    const clean = b.connect({ will: { ...will, topic: 'w2' } });
    clean.start();
    await clean.stop();
    expect(b.retainedOn('w2')).toBeUndefined();
  });

  test('a restart drops every client, publishes their wills, and they resubscribe', async () => {
    const b = new InMemoryBroker();
    const c = b.connect({ will: { topic: 'w', payload: new Uint8Array([1]), retain: true } });
    const got: string[] = [];
    c.subscribe('t', async (m) => {
      got.push(`${new TextDecoder().decode(m.payload)}${m.retained ? ' (retained)' : ''}`);
    });
    c.start();
    await c.publishRetained('t', 'x');
    b.restart();
    await c.settled();
    expect(got).toEqual(['x', 'x (retained)']);
    expect(b.publishedOn('w')).toHaveLength(1);
    expect(c.status().reconnects).toBe(1);
  });

  test('an empty retained payload clears the retained message', async () => {
    const b = new InMemoryBroker();
    const c = b.connect();
    c.start();
    await c.publishRetained('t', 'x');
    await c.publishRetained('t', new Uint8Array());
    expect(b.retainedOn('t')).toBeUndefined();
  });
});
