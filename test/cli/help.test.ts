import { describe, expect, test } from 'bun:test';
import { COMMAND_USAGE } from '../../src/cli/usage.ts';
import { cli } from '../helpers/cli.ts';

describe('filament <command> --help', () => {
  for (const key of Object.keys(COMMAND_USAGE)) {
    const argv = key.split(' ');
    test(`filament ${key} --help prints its usage and exits 0`, async () => {
      const result = await cli(...argv, '--help');
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(result.out).toContain(`filament ${key}`);
      expect((await cli(...argv, '-h')).code).toBe(0);
    });
  }

  test('filament rules --help lists every rules subcommand, and nothing else', async () => {
    const { code, out } = await cli('rules', '--help');
    expect(code).toBe(0);
    for (const sub of ['lint', 'sign', 'publish', 'keygen'])
      expect(out).toContain(`filament rules ${sub}`);
    expect(out).not.toContain('filament run');
    expect(out).toContain('CREDENTIALS, for a secured broker');
  });

  test('--help wins over other arguments, even ones that would be refused', async () => {
    const { code, out } = await cli('rules', 'lint', '/nonexistent.json', '--bogus', '--help');
    expect(code).toBe(0);
    expect(out).toContain('filament rules lint FILE');
    expect(out).not.toContain('filament rules publish');
  });

  test('filament help COMMAND is the same, and an unknown command is a usage error', async () => {
    expect((await cli('help', 'rules', 'sign')).out).toBe(
      (await cli('rules', 'sign', '--help')).out,
    );
    expect(await cli('help', 'frobnicate')).toMatchObject({ code: 2 });
    expect((await cli('frobnicate', '--help')).code).toBe(2);
  });

  test('the full usage still lists every command', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    for (const key of Object.keys(COMMAND_USAGE)) expect(out).toContain(`filament ${key}`);
  });
});
