import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DescriptorIndex } from '../../src/api/index.ts';

const ROOT = join(import.meta.dir, '..', '..');

describe('the protos', () => {
  test('pass buf lint', () => {
    const lint = spawnSync(join(ROOT, 'node_modules/.bin/buf'), ['lint'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  test('are embedded as built from the .proto files (run bun build/embed-protos.ts after editing them)', () => {
    const check = spawnSync(process.execPath, [join(ROOT, 'build/embed-protos.ts'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('index every symbol reflection clients ask for', () => {
    const index = new DescriptorIndex();
    expect(index.fileOfSymbol('filament.v1.Sidecar.ValidateStream')).toBe(
      'filament/v1/sidecar.proto',
    );
    expect(index.fileOfSymbol('.filament.v1.BrokerConnection.State')).toBe(
      'filament/v1/sidecar.proto',
    );
    expect(index.fileOfSymbol('google.rpc.BadRequest.FieldViolation')).toBe(
      'google/rpc/status.proto',
    );
    expect(index.fileWithDependencies('google/rpc/status.proto')).toHaveLength(2);
    expect(index.fileOfSymbol('filament.v1.Nope')).toBeUndefined();
  });
});
