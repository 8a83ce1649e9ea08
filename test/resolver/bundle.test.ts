import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';

// The resolver library ships for resolver services: it shares only the report contract with the
// sidecar. Bundling its entry point shows everything loading it would load, dependencies included.

const ENTRY = join(import.meta.dir, '..', '..', 'src', 'resolver', 'index.ts');

async function bundle(): Promise<string> {
  const result = await Bun.build({ entrypoints: [ENTRY], target: 'node', format: 'esm' });
  expect(result.success).toBe(true);
  return (await result.outputs[0]?.text()) ?? '';
}

/** Modules the bundle still loads at run time (Node built-ins stay external). */
function runtimeModules(code: string): string[] {
  const found = [
    ...code.matchAll(/require\("([^"]+)"\)/g),
    ...code.matchAll(/\bfrom\s*"([^"]+)"/g),
    ...code.matchAll(/\bimport\("([^"]+)"\)/g),
  ].map((m) => (m[1] as string).replace(/^node:/, ''));
  return [...new Set(found)].sort();
}

describe('the resolver library, bundled', () => {
  test('loads no child_process or fs, nor the collectors, the monitor or the sidecar', async () => {
    const code = await bundle();
    const modules = runtimeModules(code);
    expect(modules).not.toContain('child_process');
    expect(modules).not.toContain('fs');
    expect(modules).not.toContain('fs/promises');
    for (const inside of [
      'SaturationMonitor',
      'PeriodicCollector',
      'nvidiaSmiSampler',
      'NVIDIA_SMI_ARGS',
      'metricsSampler',
      'readinessSampler',
      'RuleFollower',
      'ApiServer',
      'execFile',
      'detect-libc',
    ])
      expect({ inside, found: code.includes(inside) }).toEqual({ inside, found: false });
  });

  test('does carry the report contract and the MQTT client it needs', async () => {
    const code = await bundle();
    // Guards the test above: a bundle that lost the resolver would pass it vacuously.
    expect(code).toContain('decodeReport');
    expect(code).toContain('ReplicaTable');
    expect(runtimeModules(code)).toContain('net');
  });
});
