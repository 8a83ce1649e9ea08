import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FetchError, fetchBounded } from '../../src/http-client/index.ts';

/** A misbehaving model server on a free loopback port (node:http, so it can drip and lie). */
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') {
      res.setHeader('content-type', 'application/json');
      res.end('{"object":"list","data":[]}');
    } else if (req.url === '/huge') {
      // 50 MB, chunked (no content-length): the cap must stop the read, not the end of the body.
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      let sent = 0;
      const push = () => {
        while (sent < 50 && res.write(chunk)) sent++;
        if (sent >= 50) res.end();
        else res.once('drain', push);
      };
      push();
    } else if (req.url === '/declared') {
      res.setHeader('content-length', String(50 * 1024 * 1024));
      res.write('x');
    } else if (req.url === '/drip') {
      // Headers at once, then a byte a second: only a time-out that covers the body ends it.
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 1000);
      res.on('close', () => clearInterval(timer));
    } else if (req.url === '/echo') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => res.end(`${req.method} ${body}`));
    } else {
      res.statusCode = 500;
      res.end('boom');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('fetchBounded', () => {
  test('returns status, content type and body', async () => {
    const got = await fetchBounded(`${base}/ok`, { timeoutMs: 2000, maxBytes: 1024 });
    expect(got).toEqual({
      status: 200,
      contentType: 'application/json',
      text: '{"object":"list","data":[]}',
    });
  });

  test('a non-2xx status is returned, not thrown (the caller decides what it means)', async () => {
    const got = await fetchBounded(`${base}/nope`, { timeoutMs: 2000, maxBytes: 1024 });
    expect(got.status).toBe(500);
  });

  test('stops reading a 50 MB body at the cap', async () => {
    const rss = process.memoryUsage().rss;
    const error = await fetchBounded(`${base}/huge`, { timeoutMs: 5000, maxBytes: 1024 * 1024 })
      .then(() => null)
      .catch((e) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect(error.message).toContain('1048576-byte cap');
    // Nowhere near the 50 MB the server would have sent.
    expect(process.memoryUsage().rss - rss).toBeLessThan(40 * 1024 * 1024);
  });

  test('refuses a declared length over the cap before reading', async () => {
    const error = await fetchBounded(`${base}/declared`, { timeoutMs: 2000, maxBytes: 1024 }).catch(
      (e) => e,
    );
    expect(error.message).toBe(`${base}/declared answered 52428800 bytes, more than the 1024 cap`);
  });

  test('a body that drips in slowly is cut off by the time-out', async () => {
    const error = await fetchBounded(`${base}/drip`, { timeoutMs: 300, maxBytes: 1024 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(FetchError);
    expect(error.message).toBe(`${base}/drip did not answer in full within 300 ms`);
  });

  test('a refused connection names the URL', async () => {
    const error = await fetchBounded('http://127.0.0.1:1/x', {
      timeoutMs: 2000,
      maxBytes: 1,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(FetchError);
    expect(error.message).toStartWith('http://127.0.0.1:1/x: ');
  });

  test('posts a JSON body', async () => {
    const got = await fetchBounded(
      `${base}/echo`,
      { timeoutMs: 2000, maxBytes: 1024 },
      { method: 'POST', body: '{"ready":true}' },
    );
    expect(got.text).toBe('POST {"ready":true}');
  });
});
