import { afterEach, describe, expect, test } from 'bun:test';
import { connect, type Socket } from 'node:net';
import { AgentServer } from '../../src/haproxy-agent/index.ts';

let server: AgentServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

/** Connects, optionally sends `send`, and resolves with everything read until the server closes. */
function ask(port: number, send?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (chunk) => {
      text += String(chunk);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    if (send !== undefined) socket.write(send);
  });
}

describe('AgentServer', () => {
  test('answers each connection with the current line and closes it', async () => {
    let line = 'up ready 100%\n';
    let answered = 0;
    server = new AgentServer({
      host: '127.0.0.1',
      port: 0,
      reply: () => line,
      onAnswered: () => answered++,
    });
    const port = await server.start();
    expect(await ask(port)).toBe('up ready 100%\n');
    line = 'drain\n';
    expect(await ask(port, 'agent-send string\n')).toBe('drain\n');
    expect(answered).toBe(2);
  });

  test('junk from the client changes nothing; many connections at once are all answered or refused', async () => {
    server = new AgentServer({
      host: '127.0.0.1',
      port: 0,
      reply: () => 'up ready 42%\n',
      maxConnections: 8,
    });
    const port = await server.start();
    expect(await ask(port, `${'\u0000\u00ff junk '.repeat(10_000)}\n`)).toBe('up ready 42%\n');
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => ask(port).catch(() => 'refused')),
    );
    for (const a of answers) expect(['up ready 42%\n', '', 'refused']).toContain(a);
    expect(answers.filter((a) => a === 'up ready 42%\n').length).toBeGreaterThan(0);
    expect(await ask(port)).toBe('up ready 42%\n');
  });

  test('a client that never reads is cut off, and the port keeps answering', async () => {
    server = new AgentServer({
      host: '127.0.0.1',
      port: 0,
      reply: () => `up ready 7% ${'x'.repeat(1 << 20)}\n`,
      timeoutMs: 200,
    });
    const port = await server.start();
    const client: Socket = connect({ host: '127.0.0.1', port });
    client.pause();
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    // The sidecar holds nothing for it once the answer is handed over or the time-out passed.
    const deadline = Date.now() + 3000;
    while (server.connections > 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(server.connections).toBe(0);
    client.destroy();
    expect((await ask(port)).startsWith('up ready 7%')).toBe(true);
  });
});
