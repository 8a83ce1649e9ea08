import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.ts';

const UNIT = join(import.meta.dir, '..', '..', 'systemd', 'filament.service');

/** The shipped unit with ExecStart pointing at an executable that exists on this machine. */
async function unitWithBinary(dir: string): Promise<string> {
  const text = await readFile(UNIT, 'utf8');
  const file = join(dir, 'filament.service');
  await writeFile(file, text.replaceAll('/usr/local/bin/filament', process.execPath));
  return file;
}

function analyze(...args: string[]) {
  const result = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('systemd/filament.service', () => {
  test('is a Type=notify unit with a watchdog', async () => {
    const text = await readFile(UNIT, 'utf8');
    expect(text).toMatch(/^Type=notify$/m);
    expect(text).toMatch(/^NotifyAccess=main$/m);
    expect(text).toMatch(/^WatchdogSec=\d+s$/m);
    expect(text).toContain('\nExecReload=/bin/kill -HUP $MAINPID\n');
  });

  test('passes systemd-analyze verify', async () => {
    const dir = await tempDir('filament-unit-');
    const result = analyze('verify', await unitWithBinary(dir.path));
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
    await dir.remove();
  });

  test('scores at most 1.5 in systemd-analyze security', async () => {
    const dir = await tempDir('filament-unit-');
    const result = analyze('security', '--offline=true', await unitWithBinary(dir.path));
    const score = /Overall exposure level for filament\.service: ([\d.]+)/.exec(result.out);
    expect(score).not.toBeNull();
    expect(Number(score?.[1])).toBeLessThanOrEqual(1.5);
    await dir.remove();
  });
});
