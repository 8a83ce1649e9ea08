import { beforeAll, describe, expect, test } from 'bun:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bootUnits, type DeviceNode } from '../helpers/systemd-boot.ts';

// The shipped unit, started by a real systemd (PID 1 of its own namespaces), with ExecStart swapped
// for a probe that opens device nodes the way NVML does. No nvidia driver is loaded here, so a node
// of major 195 that the unit's device ACL lets through fails with ENXIO (no such device: the
// kernel found no driver); one the ACL refuses fails with EPERM before any driver is asked; one the
// unit hides is ENOENT. /proc/devices inside is this kernel's own plus the nvidia lines of real hosts
// (captures in the sources named below), which is all DeviceAllow=char-NAME reads.

const UNIT = join(import.meta.dir, '..', '..', 'systemd', 'filament.service');

/** Opens each `path:mode` argument, prints `path code`, then DONE; lists /proc/driver too. */
const PROBE = `
const fs = require('node:fs');
for (const arg of process.argv.slice(2)) {
  const [path, mode] = arg.split(':');
  try { fs.closeSync(fs.openSync(path, mode)); console.log(path, mode, 'OPENED'); }
  catch (e) { console.log(path, mode, e.code); }
}
try { fs.readdirSync('/proc/driver'); console.log('/proc/driver', 'r', 'LISTED'); }
catch (e) { console.log('/proc/driver', 'r', e.code); }
console.log('DONE');
`;

const OPENS = [
  '/dev/null:r+',
  '/dev/nvidiactl:r+',
  '/dev/nvidia0:r+',
  '/dev/nvidia1:r+',
  '/dev/nvidia-caps/nvidia-cap2:r',
  '/dev/nvidia-caps/nvidia-cap2:r+',
  '/dev/nvidia-uvm:r+',
  '/dev/nvidia-caps-imex-channels/channel0:r',
  '/dev/net/tun:r+',
];

/** The unit as shipped, but for what starts it: the probe, run once, its output to a file. */
function probeUnit(shipped: string): string {
  const edits: [RegExp, string][] = [
    [/^ExecStart=.*$/m, `ExecStart=/run/probe/bun /run/probe/probe.js ${OPENS.join(' ')}`],
    [/^Type=notify$/m, 'Type=exec\nStandardOutput=file:{{OUT}}'],
    [/^Restart=always$/m, 'Restart=no'],
    [/^WatchdogSec=.*\n/m, ''],
  ];
  return edits.reduce((text, [pattern, replacement]) => {
    if (!pattern.test(text)) throw new Error(`the shipped unit has no line matching ${pattern}`);
    return text.replace(pattern, replacement);
  }, shipped);
}

let hostDevices = '';
let shipped = '';
beforeAll(async () => {
  hostDevices = await readFile('/proc/devices', 'utf8');
  shipped = await readFile(UNIT, 'utf8');
});

/** This kernel's /proc/devices with `lines` added to its character devices; their majors must be free. */
function procDevicesWith(lines: string[]): string {
  const taken = new Set(
    hostDevices
      .split('\n')
      .map((l) => /^\s*(\d+) /.exec(l)?.[1])
      .filter(Boolean),
  );
  for (const major of lines.map((line) => line.split(' ')[0]))
    if (taken.has(major)) throw new Error(`major ${major} is a real device on this kernel`);
  return hostDevices.replace('\n\nBlock devices:', `\n${lines.join('\n')}\n\nBlock devices:`);
}

function nodes(caps: number, uvm: number): DeviceNode[] {
  return [
    { path: '/dev/nvidiactl', mode: '666', major: 195, minor: 255 },
    { path: '/dev/nvidia0', mode: '666', major: 195, minor: 0 },
    { path: '/dev/nvidia1', mode: '666', major: 195, minor: 1 },
    // 0666 here (real ones are 0444) so that only the device ACL can refuse a write.
    { path: '/dev/nvidia-caps/nvidia-cap2', mode: '666', major: caps, minor: 2 },
    { path: '/dev/nvidia-uvm', mode: '666', major: uvm, minor: 0 },
    { path: '/dev/nvidia-caps-imex-channels/channel0', mode: '666', major: 234, minor: 0 },
    { path: '/dev/net/tun', mode: '666', major: 10, minor: 200 },
  ];
}

async function run(procDevices: string, devices: DeviceNode[]): Promise<Map<string, string>> {
  const { output } = await bootUnits({
    units: {
      'boot.target': '[Unit]\nDescription=device access test\nWants=filament.service\n',
      'filament.service': probeUnit(shipped),
    },
    procDevices,
    nodes: devices,
    run: { 'probe/probe.js': PROBE },
    // The runtime these tests run on, copied: a checkout under /tmp is hidden by PrivateTmp=yes.
    copies: { 'probe/bun': process.execPath },
    done: (text) => text.includes('DONE\n'),
  });
  const result = new Map<string, string>();
  for (const line of output.trim().split('\n')) {
    const [path, mode, code] = line.split(' ');
    if (code) result.set(`${path}:${mode}`, code);
  }
  return result;
}

// What the probe must see on a GPU host, whichever name the driver gives major 195.
const GPU_HOST = {
  '/dev/null:r+': 'OPENED',
  '/dev/nvidiactl:r+': 'ENXIO',
  '/dev/nvidia0:r+': 'ENXIO',
  '/dev/nvidia1:r+': 'ENXIO',
  '/dev/nvidia-caps/nvidia-cap2:r': 'ENXIO',
  '/dev/nvidia-caps/nvidia-cap2:r+': 'EPERM',
  '/dev/nvidia-uvm:r+': 'EPERM',
  '/dev/nvidia-caps-imex-channels/channel0:r': 'EPERM',
  '/dev/net/tun:r+': 'EPERM',
  '/proc/driver:r': 'LISTED',
};

describe('systemd/filament.service device access, under a real systemd', () => {
  test('driver before 550.40 (major 195 is "nvidia-frontend"): NVML\'s devices open, nothing else', async () => {
    // /proc/devices lines as on real hosts: "195 nvidia-frontend" and "nvidia-uvm"
    // (NVIDIA/gdrcopy#115), "238 nvidia-caps" and "235 nvidia-uvm" (ApolloAuto/apollo#13130).
    const seen = await run(
      procDevicesWith(['195 nvidia-frontend', '235 nvidia-uvm', '238 nvidia-caps']),
      nodes(238, 235),
    );
    expect(Object.fromEntries(seen)).toEqual(GPU_HOST);
  }, 60_000);

  test('driver 550.40 and later (major 195 is "nvidia" and "nvidiactl"): the same', async () => {
    // Names since 550.40: "nvidia" and "nvidiactl" (NVIDIA's release notes, quoted in
    // NVIDIA/nvidia-container-toolkit#324); "511 nvidia-caps" beside "234 nvidia-caps-imex-channels"
    // (kubernetes-sigs/dra-driver-nvidia-gpu#304).
    const seen = await run(
      procDevicesWith([
        '195 nvidia',
        '195 nvidiactl',
        '234 nvidia-caps-imex-channels',
        '509 nvidia-uvm',
        '511 nvidia-caps',
      ]),
      nodes(511, 509),
    );
    expect(Object.fromEntries(seen)).toEqual(GPU_HOST);
  }, 60_000);

  test('a host without the nvidia driver: the unit still starts; no nvidia major is let through', async () => {
    const seen = await run(hostDevices, nodes(238, 235));
    expect(seen.get('/dev/null:r+')).toBe('OPENED');
    for (const open of OPENS.filter((o) => o.includes('nvidia') || o.includes('tun')))
      expect({ open, code: seen.get(open) }).toEqual({ open, code: 'EPERM' });
  }, 60_000);
});
