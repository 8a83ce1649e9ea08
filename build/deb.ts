/**
 * Builds the Debian package from a compiled binary (`npm run build` first, or `build:arm64`):
 *
 *   bun build/deb.ts [--arch amd64|arm64] [--binary dist/filament] [--out dist] [--revision 1] [--fast]
 *
 * Contents: /usr/bin/filament, the systemd unit in /lib/systemd/system (ExecStart pointed at
 * /usr/bin), /etc/filament/filament.toml as a conffile (dpkg never overwrites an edited one on
 * upgrade; purge removes it), and the copyright and changelog lintian asks for. The maintainer
 * scripts only reload systemd (and stop the service on removal); they never start or enable it.
 * Prints the path of the .deb.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    arch: { type: 'string' },
    binary: { type: 'string' },
    out: { type: 'string' },
    revision: { type: 'string' },
    fast: { type: 'boolean' },
  },
});
const arch = values.arch ?? (process.arch === 'arm64' ? 'arm64' : 'amd64');
if (arch !== 'amd64' && arch !== 'arm64')
  throw new Error(`--arch must be amd64 or arm64, got ${arch}`);
const binary =
  values.binary ??
  join(
    root,
    arch === (process.arch === 'arm64' ? 'arm64' : 'amd64')
      ? 'dist/filament'
      : `dist/filament-linux-${arch === 'amd64' ? 'x64' : 'arm64'}`,
  );
const out = values.out ?? join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  description: string;
};
const version = `${pkg.version}-${values.revision ?? '1'}`;

const stage = mkdtempSync(join(tmpdir(), 'filament-deb-'));
chmodSync(stage, 0o755);
const put = (path: string, content: string | Buffer, mode: number) => {
  const target = join(stage, path);
  mkdirSync(join(target, '..'), { recursive: true });
  writeFileSync(target, content);
  chmodSync(target, mode);
};
try {
  mkdirSync(join(stage, 'usr/bin'), { recursive: true });
  copyFileSync(binary, join(stage, 'usr/bin/filament'));
  chmodSync(join(stage, 'usr/bin/filament'), 0o755);
  const unit = readFileSync(join(root, 'systemd/filament.service'), 'utf8')
    .replaceAll('/usr/local/bin/filament', '/usr/bin/filament')
    .replace(
      /^# filament host sidecar\. Install the binary[^\n]*\n# [^\n]*\n/,
      '# filament host sidecar, from the Debian package. Enable it when its config is ready:\n#   systemctl enable --now filament\n',
    );
  put('lib/systemd/system/filament.service', unit, 0o644);
  put(
    'etc/filament/filament.toml',
    readFileSync(join(root, 'examples/config/filament.toml')),
    0o644,
  );
  put('usr/share/doc/filament/copyright', copyright(), 0o644);
  put(
    'usr/share/lintian/overrides/filament',
    [
      '# A Bun single-file executable carries the JavaScript bundle inside the binary: strip removes',
      '# it, and the stripped binary runs no filament code at all.',
      'filament: unstripped-binary-or-object [usr/bin/filament]',
      '# The Bun runtime links its image codecs statically; they belong to the runtime, not to',
      '# filament, and cannot be unbundled from it.',
      'filament: embedded-library libjpeg [usr/bin/filament]',
      '',
    ].join('\n'),
    0o644,
  );
  put(
    'usr/share/doc/filament/changelog.Debian.gz',
    gzipSync(
      Buffer.from(
        `filament (${version}) unstable; urgency=medium\n\n  * Package of filament ${pkg.version}.\n\n -- filament maintainers <maintainers@filament.dev>  ${new Date('2026-12-02T00:00:00Z').toUTCString().replace('GMT', '+0000')}\n`,
      ),
      { level: 9 },
    ),
    0o644,
  );
  const installedKb = Math.ceil(
    Number(
      spawnSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).stdout.split(
        '\t',
      )[0],
    ),
  );
  put(
    'DEBIAN/control',
    [
      'Package: filament',
      `Version: ${version}`,
      `Architecture: ${arch}`,
      'Maintainer: filament maintainers <maintainers@filament.dev>',
      `Installed-Size: ${installedKb}`,
      'Depends: libc6 (>= 2.27)',
      'Section: net',
      'Priority: optional',
      'Homepage: https://filament.dev',
      `Description: host sidecar for GPU model serving`,
      ' filament follows a versioned rule stream over MQTT, validates each request',
      " against what the model server has actually loaded, and publishes the host's",
      ' saturation for resolvers and load balancers (HAProxy agent-check, Prometheus).',
      '',
    ].join('\n'),
    0o644,
  );
  put('DEBIAN/conffiles', '/etc/filament/filament.toml\n', 0o644);
  put(
    'DEBIAN/postinst',
    `#!/bin/sh
set -e
# Only tell systemd the unit changed; the service is never started or enabled unasked.
if [ "$1" = "configure" ] && [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
`,
    0o755,
  );
  put(
    'DEBIAN/prerm',
    `#!/bin/sh
set -e
# On removal (not upgrade), stop a running service before its binary goes, then take this
# replica off the broker (its retained report, servable set and ACKs), so rollouts and resolvers
# stop counting it; a reinstalled sidecar publishes them again at once. Never fails the removal.
if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
  systemctl --system stop filament.service >/dev/null 2>&1 || true
  timeout 30 /usr/bin/filament retire --config /etc/filament/filament.toml >&2 || true
fi
`,
    0o755,
  );
  put(
    'DEBIAN/postrm',
    `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
# Purge also forgets the last-known-good rules (the conffile goes with dpkg's own purge).
if [ "$1" = "purge" ]; then
  rm -rf /var/lib/filament /var/lib/private/filament
fi
`,
    0o755,
  );
  mkdirSync(out, { recursive: true });
  const deb = join(out, `filament_${version}_${arch}.deb`);
  // xz for the package people install; --fast (gzip -1) for tests, where xz of 117 MB is slow.
  const compression = values.fast ? ['-Zgzip', '-z1'] : ['-Zxz'];
  const build = spawnSync(
    'dpkg-deb',
    ['--build', '--root-owner-group', ...compression, stage, deb],
    {
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) throw new Error(`dpkg-deb failed: ${build.stderr}`);
  console.log(deb);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

function copyright(): string {
  return `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: filament
Source: https://filament.dev

Files: *
Copyright: 2026 filament maintainers
License: Apache-2.0

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License.
 .
 On Debian systems, the full text of the Apache License, Version 2.0 can be
 found in the file '/usr/share/common-licenses/Apache-2.0'.
`;
}
