import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { clientConstructor } from '../../src/api/index.ts';

const BUF = join(import.meta.dir, '..', '..', 'node_modules', '.bin', 'buf');

/** A grpc-js client pair (Health and Sidecar) for `target` (`unix:/path` or `127.0.0.1:port`). */
export function grpcClients(target: string) {
  const credentials = grpc.credentials.createInsecure();
  const Health = clientConstructor('grpc.health.v1.Health');
  const Sidecar = clientConstructor('filament.v1.Sidecar');
  const health = new Health(target, credentials);
  const sidecar = new Sidecar(target, credentials);
  const unary = <T>(client: grpc.Client, method: string, request: object): Promise<T> =>
    new Promise((resolve, reject) => {
      (
        client as unknown as Record<
          string,
          (r: object, cb: (e: grpc.ServiceError | null, v: T) => void) => void
        >
      )[method]?.(request, (error, value) => (error ? reject(error) : resolve(value)));
    });
  return {
    health,
    sidecar,
    check: (service: string) => unary<{ status: string }>(health, 'Check', { service }),
    getConfig: () => unary<Record<string, unknown>>(sidecar, 'GetConfig', {}),
    getSaturation: () =>
      unary<{ report: Record<string, unknown>; endpoint_load_metrics: string }>(
        sidecar,
        'GetSaturation',
        {},
      ),
    validate: (request: object) => unary<Record<string, unknown>>(sidecar, 'Validate', request),
    declareModels: (request: object) =>
      unary<Record<string, unknown>>(sidecar, 'DeclareModels', request),
    close() {
      health.close();
      sidecar.close();
    },
  };
}

/** Collects messages from a server stream until `count` arrived, or fails after `timeoutMs`. */
export function collect<T>(
  stream: grpc.ClientReadableStream<T>,
  count: number,
  timeoutMs = 5000,
): Promise<T[]> {
  const seen: T[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`got ${seen.length} of ${count} messages: ${JSON.stringify(seen)}`)),
      timeoutMs,
    );
    stream.on('data', (message: T) => {
      seen.push(message);
      if (seen.length === count) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
    stream.on('error', (error) => {
      clearTimeout(timer);
      if (seen.length < count) reject(error);
    });
  });
}

/** Where `buf curl` should connect: a unix socket or a loopback TCP port. */
export type BufTarget = { readonly socket: string } | { readonly port: number };

/**
 * Runs `buf curl` (a Go gRPC client, using server reflection) and resolves with its exit code and
 * output. Asynchronous on purpose: the server under test may live in this very process. An array
 * body is sent as a stream of messages; `timeout` bounds calls that never end on their own.
 */
export function bufCurl(
  target: BufTarget,
  pathOrFlag: string,
  body?: object | object[],
  timeout = '10s',
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const base = 'socket' in target ? 'http://localhost' : `http://127.0.0.1:${target.port}`;
  const args = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--timeout', timeout];
  if ('socket' in target) args.push('--unix-socket', target.socket);
  if (pathOrFlag.startsWith('--')) args.push(pathOrFlag, base);
  else args.push(`${base}/${pathOrFlag}`);
  // Several messages (a client or bidi stream) go one JSON object after another.
  if (body !== undefined)
    args.push(
      '--data',
      Array.isArray(body) ? body.map((b) => JSON.stringify(b)).join('\n') : JSON.stringify(body),
    );
  return new Promise((resolve) => {
    const child = spawn(BUF, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
