#!/usr/bin/env bash
# Installs filament on a host, idempotently:
#   binary  → $DESTDIR/usr/local/bin/filament            (replaced when it differs)
#   unit    → $DESTDIR/etc/systemd/system/filament.service (replaced when it differs)
#   config  → $DESTDIR/etc/filament/filament.toml         (only when absent: never overwrites)
# then `systemctl daemon-reload` when systemd runs and DESTDIR is empty. Prints what it did.
#
#   build/install.sh [--binary dist/filament] [--config examples/config/filament.toml]
#   DESTDIR=/tmp/root build/install.sh      # stage into a directory instead of /
set -euo pipefail
cd "$(dirname "$0")/.."

binary=dist/filament
config=examples/config/filament.toml
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "install.sh: no executable at $binary (run: npm run build)" >&2; exit 1; }
"$binary" check-config "$config" >/dev/null || { echo "install.sh: $config is not valid" >&2; exit 1; }

root="${DESTDIR:-}"
changed=0

# place SOURCE TARGET MODE: installs when TARGET is missing or differs; reports either way.
place() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then
    echo "unchanged  $2"
  else
    install -D -m "$3" "$1" "$2.new" && mv -f "$2.new" "$2"
    echo "installed  $2"
    changed=1
  fi
}

place "$binary" "$root/usr/local/bin/filament" 0755
place systemd/filament.service "$root/etc/systemd/system/filament.service" 0644
if [ -e "$root/etc/filament/filament.toml" ]; then
  echo "kept       $root/etc/filament/filament.toml (existing config is never overwritten)"
else
  install -D -m 0644 "$config" "$root/etc/filament/filament.toml"
  echo "installed  $root/etc/filament/filament.toml"
fi

if [ -z "$root" ] && [ "$changed" -eq 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "systemd reloaded; start with: systemctl enable --now filament"
fi
