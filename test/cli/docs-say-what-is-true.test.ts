import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_USAGE } from '../../src/cli/usage.ts';
import { SidecarMetrics } from '../../src/metrics/index.ts';
import { cli } from '../helpers/cli.ts';

const doc = (name: string) => readFileSync(join(import.meta.dir, '..', '..', 'docs', name), 'utf8');

describe('the docs list what exists', () => {
  test('every metric filament registers is in docs/metrics.md', () => {
    const metrics = new SidecarMetrics({
      tenants: () => [],
      brokerConnected: () => true,
      trustedKeys: () => 0,
      saturation: () => null,
      collectorAges: () => [],
      identity: () => ({ replica: 'r', cluster: 'c', version: '0' }),
      inventory: () => ({ confirmed: true, models: 0, drift: [] }),
    });
    const names = metrics.registry.getMetricsAsArray().map((m) => m.name);
    expect(names.length).toBeGreaterThan(20);
    const text = doc('metrics.md');
    expect(names.filter((name) => !text.includes(`\`${name}`))).toEqual([]);
  });

  test('every command is in the command table of docs/running.md', () => {
    const table = doc('running.md')
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    const missing = Object.keys(COMMAND_USAGE).filter(
      (command) =>
        !table.some(
          (row) => row.startsWith(`| \`${command} `) || row.startsWith(`| \`${command}\``),
        ),
    );
    expect(missing).toEqual([]);
  });
});

describe('broker URLs on the command line', () => {
  for (const command of [
    ['rules', 'status', '--tenant', 'acme'],
    ['top', '--once'],
  ])
    test(`filament ${command[0]} ${command[1]} refuses an empty port before connecting`, async () => {
      const result = await cli(...command, '--broker', 'mqtt://127.0.0.1:');
      expect(result.code).toBe(2);
      expect(result.err).toContain('--broker mqtt://127.0.0.1:: the port is empty');
    });
});
