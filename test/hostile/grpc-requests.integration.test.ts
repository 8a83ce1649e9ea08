import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { encodeMessage } from '../../src/api/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { publishOnce, rulesTopic } from '../../src/mqtt/index.ts';
import { grpcClients } from '../helpers/grpc-clients.ts';
import { jsonBytes } from '../helpers/rule-sets.ts';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { VALID_CONFIG_MESSAGE, validationRuleSet } from '../helpers/validation-fixture.ts';
import { RUNS } from './hostile-inputs.ts';

const identity = (b: Buffer) => b;

// Raw bytes straight onto the wire of a running `filament run`, bypassing any client-side codec.
describe('hostile gRPC requests against a running sidecar', () => {
  let broker: MosquittoBroker;
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let client: grpc.Client;
  let socket: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await tempDir('filament-hostile-grpc-');
    socket = join(dir.path, 'api.sock');
    const config = join(dir.path, 'filament.toml');
    await writeFile(
      config,
      `[api]\nsocket = "${socket}"\n[saturation]\nnvidia_smi = "off"\n[[models]]\nid = "llama"\nversion = "2026-10-01"\n`,
    );
    await publishOnce({
      url: broker.url,
      topic: rulesTopic('filament/v1', 'acme'),
      payload: jsonBytes(validationRuleSet(1)),
    });
    sidecar = startSidecarProcess(
      sidecarArgs({ config, brokers: [broker.url], tenant: 'acme', stateDir: dir.path }),
    );
    await sidecar.waitForLog((l) => l.msg === 'applied rule set', 'the rules');
    client = new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await sidecar?.kill('SIGTERM');
    await broker?.stop();
    await dir?.remove();
  });

  const unary = (path: string, bytes: Buffer) =>
    new Promise<{ code: number; details: string } | { ok: Buffer }>((resolve) => {
      client.makeUnaryRequest(path, identity, identity, bytes, (error, value) =>
        resolve(error ? { code: error.code, details: error.details } : { ok: value as Buffer }),
      );
    });

  /** Bytes that look like protobuf: valid messages cut or flipped, or random. */
  const validRequest = encodeMessage('filament.v1.ValidateRequest', {
    config: VALID_CONFIG_MESSAGE,
  });
  const hostileProtobuf = fc.oneof(
    fc.uint8Array({ maxLength: 512 }),
    fc
      .tuple(fc.nat(validRequest.length), fc.nat(validRequest.length - 1), fc.nat(255))
      .map(([cut, at, byte]) => {
        const copy = Uint8Array.from(validRequest.subarray(0, Math.max(1, cut)));
        if (at < copy.length) copy[at] = byte;
        return copy;
      }),
    // A length-delimited field declaring 2^31 bytes, and a varint that never ends.
    fc.constant(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00])),
    fc.constant(new Uint8Array(new Array(20).fill(0xff))),
  );

  test('every unary method answers each malformed request with a status, and keeps serving', async () => {
    const paths = [
      '/filament.v1.Sidecar/Validate',
      '/filament.v1.Sidecar/GetConfig',
      '/filament.v1.Sidecar/GetSaturation',
      '/grpc.health.v1.Health/Check',
    ];
    const inputs = fc.sample(fc.tuple(fc.constantFrom(...paths), hostileProtobuf), RUNS);
    for (const [path, bytes] of inputs) {
      const answer = await unary(path, Buffer.from(bytes));
      // Either a decodable request that got a real answer, or a gRPC status naming the problem.
      if ('code' in answer) {
        expect(answer.code).not.toBe(grpc.status.OK);
        expect(answer.details.length).toBeGreaterThan(0);
      }
    }
    const health = grpcClients(`unix:${socket}`);
    expect((await health.check('')).status).toBe('SERVING');
    expect((await health.validate({ config: VALID_CONFIG_MESSAGE })).ok).toBe(true);
    health.close();
    expect(sidecar.logs.some((l) => l.level === 'raw' && /unexpected error/.test(l.msg))).toBe(
      false,
    );
  });

  test('a malformed message inside a ValidateStream ends that stream only', async () => {
    const stream = client.makeBidiStreamRequest(
      '/filament.v1.Sidecar/ValidateStream',
      identity,
      identity,
    );
    const ended = new Promise<{ code: number }>((resolve) => {
      stream.on('error', (error: grpc.ServiceError) => resolve({ code: error.code }));
      stream.on('status', (status: grpc.StatusObject) => resolve({ code: status.code }));
      stream.on('data', () => {});
    });
    // Not a protobuf message at all (a tag varint that runs off the end).
    stream.write(Buffer.from([0xff, 0xff, 0xff]));
    stream.end();
    expect((await ended).code).not.toBe(grpc.status.OK);
    const health = grpcClients(`unix:${socket}`);
    expect((await health.validate({ config: VALID_CONFIG_MESSAGE })).ok).toBe(true);
    health.close();
  });
});
