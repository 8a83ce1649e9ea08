import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const DIR = join(import.meta.dir, '..', '..', 'examples', 'prometheus');

describe('the alerting rules in examples/prometheus', () => {
  test('pass promtool check rules', () => {
    const run = spawnSync('promtool', ['check', 'rules', 'filament-alerts.yml'], {
      cwd: DIR,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  test('fire as their unit tests say (promtool test rules)', () => {
    const run = spawnSync('promtool', ['test', 'rules', 'filament-alerts.test.yml'], {
      cwd: DIR,
      encoding: 'utf8',
    });
    expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });
});
