import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  test('every alert is fired by a test case and has a runbook line in the README', () => {
    const rules = readFileSync(join(DIR, 'filament-alerts.yml'), 'utf8');
    const tests = readFileSync(join(DIR, 'filament-alerts.test.yml'), 'utf8');
    const readme = readFileSync(join(DIR, '..', '..', 'README.md'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1] as string);
    expect(alerts.length).toBeGreaterThanOrEqual(11);
    for (const alert of alerts) {
      expect(tests).toContain(`alertname: ${alert}`);
      expect(readme).toContain(`| \`${alert}\` |`);
    }
  });
});
