import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { chmod, chown, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type SidecarProcess,
  sidecarArgs,
  startSidecarProcess,
} from '../helpers/sidecar-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// The API socket is mode 0660: only its owner and its group may connect. An outside probe ran
// as root and so never exercised it; here a real unprivileged user (nobody) tries, from outside
// and then from inside the socket's group.

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && !process.env.CI;
if (skip)
  console.warn('socket permission tests not run: they switch to the user nobody, which needs root');

/** Whether `nobody` (with its own group only) can connect to the unix socket `path`. */
function nobodyConnects(path: string): string {
  const probe = `require('net').connect(${JSON.stringify(path)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(1)})`;
  const run = spawnSync(
    'setpriv',
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'node', '-e', probe],
    {
      encoding: 'utf8',
    },
  );
  return (run.stdout || run.stderr).trim();
}

describe.skipIf(skip)(`the API socket's permissions${skip ? ' [skipped: needs root]' : ''}`, () => {
  let dir: { path: string; remove(): Promise<void> };
  let sidecar: SidecarProcess;
  let socket: string;

  beforeAll(async () => {
    dir = await tempDir();
    await chmod(dir.path, 0o755); // nobody may reach the socket's directory, nothing more
    socket = join(dir.path, 'api.sock');
    sidecar = startSidecarProcess([
      ...sidecarArgs({
        brokers: ['mqtt://127.0.0.1:1'],
        tenant: 'acme',
        stateDir: join(dir.path, 'state'),
      }),
      '--grpc-socket',
      socket,
    ]);
    await sidecar.waitForLog((l) => l.msg === 'sidecar started', 'started');
  });
  afterAll(async () => {
    await sidecar?.kill('SIGTERM');
    await dir?.remove();
  });

  test('is mode 0660 and refuses a user outside its group', async () => {
    expect((await stat(socket)).mode & 0o777).toBe(0o660);
    expect(nobodyConnects(socket)).toBe('EACCES');
  });

  test("lets a user of the socket's group in (as a unit's SocketGroup or RuntimeDirectory would)", async () => {
    await chown(socket, 0, 65534); // group nogroup, nobody's group
    expect(nobodyConnects(socket)).toBe('connected');
  });
});
