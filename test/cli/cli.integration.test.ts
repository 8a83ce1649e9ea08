import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { defaultReplica } from '../../src/config/index.ts';
import { type MosquittoBroker, startMosquitto } from '../../src/local-broker/index.ts';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = join(import.meta.dir, '..', '..');
const example = (name: string) => join(ROOT, 'examples', name);

describe('filament check-config', () => {
  test('accepts the sample config', async () => {
    const result = await cli('check-config', example('config/filament.toml'));
    expect(result).toMatchObject({ code: 0, err: '' });
    // The shipped config names no replica: each host is named after itself.
    expect(result.out).toContain(
      `replica ${defaultReplica(hostname())}, cluster gpu-east, tenants acme`,
    );
  });

  test('exits 1 listing every problem', async () => {
    const dir = await tempDir();
    const file = join(dir.path, 'bad.toml');
    await writeFile(
      file,
      '[identity]\ncluster = "c"\nzone = "x"\n[broker]\nurls = ["nope"]\n[rules]\ntenants = ["a"]\n',
    );
    const result = await cli('check-config', file);
    expect(result.code).toBe(1);
    expect(result.err).toContain('identity.zone: unknown field "zone" [additionalProperties]');
    expect(result.err).toContain('broker.urls[0] (--broker): must match pattern');
    await dir.remove();
  });

  test('exits 1 for a missing file and 2 for a missing argument', async () => {
    expect((await cli('check-config', '/nonexistent/filament.toml')).code).toBe(1);
    expect((await cli('check-config')).code).toBe(2);
  });
});

describe('filament rules lint', () => {
  test('accepts the JSON and the TypeScript-authored examples', async () => {
    expect(await cli('rules', 'lint', example('rules/acme.v1.json'))).toMatchObject({ code: 0 });
    const ts = await cli('rules', 'lint', example('rules/acme.v2.ts'));
    expect(ts.code).toBe(0);
    expect(ts.out).toContain('tenant acme version 2: 6 models, 4 objectives');
  });

  test('refuses the invalid example with its reason', async () => {
    const result = await cli('rules', 'lint', example('rules/acme.invalid.json'));
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'DANGLING_REFERENCE at /objectives/0/fallback/0: model "mistral-large" is not defined in /models',
    );
  });

  test('refuses a module without an export, and a missing file', async () => {
    const dir = await tempDir();
    const file = join(dir.path, 'empty.ts');
    await writeFile(file, 'export const nothing = 1;\n');
    expect((await cli('rules', 'lint', file)).err).toContain(
      'has neither a default nor a "ruleSet" export',
    );
    expect((await cli('rules', 'lint', join(dir.path, 'missing.json'))).code).toBe(1);
    await dir.remove();
  });

  test('reports command-line mistakes with exit code 2', async () => {
    expect((await cli('rules', 'frobnicate')).code).toBe(2);
    expect((await cli('rules', 'lint', 'a', '--bogus')).code).toBe(2);
    expect((await cli('nonsense')).code).toBe(2);
    expect(await cli('help')).toMatchObject({
      code: 0,
      out: expect.stringContaining('filament run'),
    });
  });
});

describe('filament rules publish', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(() => broker.stop());

  const retained = (topic: string) =>
    new Promise<{ payload: string; contentType: string | undefined; retain: boolean }>(
      (resolve, reject) => {
        const client = mqtt.connect(broker.url, { protocolVersion: 5 });
        const timer = setTimeout(() => reject(new Error('no retained message')), 5000);
        client.on('connect', () => client.subscribe(topic));
        client.on('message', (_t, payload, packet) => {
          clearTimeout(timer);
          client.end();
          resolve({
            payload: payload.toString(),
            contentType: packet.properties?.contentType,
            retain: packet.retain,
          });
        });
      },
    );

  test('publishes a TypeScript-authored set retained as JSON with its content type', async () => {
    const result = await cli(
      'rules',
      'publish',
      example('rules/acme.v2.ts'),
      '--broker',
      broker.url,
    );
    expect(result.code).toBe(0);
    expect(result.out).toContain('published: tenant acme version 2 to filament/v1/rules/acme');
    const message = await retained('filament/v1/rules/acme');
    expect(message.retain).toBe(true);
    expect(message.contentType).toBe('application/json');
    expect(JSON.parse(message.payload).version).toBe(2);
  });

  test('publishes MessagePack under another prefix over MQTT 3.1.1', async () => {
    const result = await cli(
      'rules',
      'publish',
      example('rules/acme.v1.json'),
      '--broker',
      broker.url,
      '--format',
      'msgpack',
      '--protocol',
      '3.1.1',
      '--topic-prefix',
      'staging/v1',
    );
    expect(result.code).toBe(0);
    expect(result.out).toContain('bytes msgpack');
  });

  test('refuses to publish an invalid set, or for another tenant', async () => {
    const invalid = await cli(
      'rules',
      'publish',
      example('rules/acme.invalid.json'),
      '--broker',
      broker.url,
    );
    expect(invalid).toMatchObject({ code: 1, err: expect.stringContaining('not published') });
    const wrongTenant = await cli(
      'rules',
      'publish',
      example('rules/acme.v1.json'),
      '--broker',
      broker.url,
      '--tenant',
      'globex',
    );
    expect(wrongTenant).toMatchObject({ code: 1, err: expect.stringContaining('TENANT_MISMATCH') });
  });

  test('--delta-from publishes the change on the rules topic and the full set beside it', async () => {
    const result = await cli(
      'rules',
      'publish',
      example('rules/acme.v2.ts'),
      '--delta-from',
      example('rules/acme.v1.json'),
      '--broker',
      broker.url,
      '--topic-prefix',
      'deltas/v1',
    );
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^published: tenant acme version 2 as a delta from version 1 to deltas\/v1\/rules\/acme \(\d+ bytes, [\d.]+ % of the full set\), and the full set to deltas\/v1\/rules\/acme\/full/,
    );
    const delta = await retained('deltas/v1/rules/acme');
    expect(delta.contentType).toBe('application/vnd.filament.rules-delta+json');
    expect(JSON.parse(delta.payload)).toMatchObject({
      kind: 'filament.rules.delta/v1',
      base: 1,
      version: 2,
    });
    const full = await retained('deltas/v1/rules/acme/full');
    expect(JSON.parse(full.payload).version).toBe(2);
    // The other way round is refused: a delta must go to a newer version.
    const backwards = await cli(
      'rules',
      'publish',
      example('rules/acme.v1.json'),
      '--delta-from',
      example('rules/acme.v2.ts'),
      '--broker',
      broker.url,
    );
    expect(backwards).toMatchObject({
      code: 1,
      err: "not published: the new set's version 1 is not greater than the base's 2",
    });
  });

  test('rules diff shows each change and the sizes', async () => {
    const result = await cli(
      'rules',
      'diff',
      example('rules/acme.v1.json'),
      example('rules/acme.v2.ts'),
    );
    expect(result.code).toBe(0);
    const lines = result.out.split('\n');
    expect(lines[0]).toBe('~ /version  1 → 2');
    expect(lines).toContain(
      '+ /objectives/0/canary  [{"model":"llama-3.1-8b-instruct-2026-11","percent":5}]',
    );
    expect(lines.at(-1)).toMatch(
      /^7 change\(s\): tenant acme version 1 → 2; as a delta \d+ bytes, the full set \d+ bytes \([\d.]+ %\)$/,
    );
    expect((await cli('rules', 'diff', example('rules/acme.v1.json'))).code).toBe(2);
  });

  test('fails clearly when the broker is unreachable', async () => {
    const result = await cli(
      'rules',
      'publish',
      example('rules/acme.v1.json'),
      '--broker',
      'mqtt://127.0.0.1:1',
      '--timeout',
      '2',
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain('not published: cannot publish to mqtt://127.0.0.1:1');
  });
});
