#!/usr/bin/env bash
# The tools filament's tests run against (real brokers, real checkers), from Debian's packages.
#
#   bash build/test-deps.sh           install what is missing (as root, or with passwordless sudo);
#                                     otherwise list it and name the one command that installs it
#   bash build/test-deps.sh --check   only list what is missing (exit 1 when anything is)
#
# `npm test` runs it first, so a missing tool stops the run at once with its name instead of
# surfacing later as an unrelated-looking assertion; `.ci/run` runs it too.
set -euo pipefail

check_only=false
[ "${1:-}" = "--check" ] && check_only=true

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

# Each line: what must be there | the Debian package that brings it | what needs it.
requirements() {
  cat <<'LIST'
mosquitto|mosquitto|the private MQTT brokers of the integration tests
mosquitto_pub|mosquitto-clients|publishing rule sets as another client would
mosquitto_passwd|mosquitto|the broker password tests
nats-server|nats-server|the cluster and MQTT 3.1.1 contract tests
promtool|prometheus|checking /metrics with promtool
prometheus|prometheus|a real Prometheus running every dashboard query against real sidecars
haproxy|haproxy|the load balancer steered by the agent-check
nginx|nginx|nginx auth_request asking filament's check endpoint about every request
lintian|lintian|checking the Debian package
socat|socat|standing in for systemd's notification socket
openssl|openssl|making the broker TLS certificates
systemd-analyze|systemd|verifying and rating the systemd unit
/lib/systemd/systemd|systemd|booting the shipped unit in private namespaces (its device access)
unshare|util-linux|the private namespaces that systemd boots in
setpriv|util-linux|running a client as the user nobody (the API socket's permissions)
mount|mount|mounting the small tmpfs of the full-disk tests
qemu-aarch64-static|qemu-user-static|running the arm64 binary
/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1|libc6-arm64-cross|the arm64 binary's C library under qemu
/usr/aarch64-linux-gnu/lib/libstdc++.so.6|libstdc++6-arm64-cross|the arm64 binary's C++ library under qemu
LIST
}

missing_packages=()
missing_lines=()
scan() {
  missing_packages=()
  missing_lines=()
  while IFS='|' read -r what package why; do
    if [[ "$what" == /* ]]; then [ -e "$what" ] && continue; else have "$what" && continue; fi
    missing_lines+=("  $what  (Debian package $package: $why)")
    [[ " ${missing_packages[*]-} " == *" $package "* ]] || missing_packages+=("$package")
  done < <(requirements)
}

scan
[ ${#missing_packages[@]} -eq 0 ] && exit 0

install_command="apt-get update && apt-get install -y --no-install-recommends ${missing_packages[*]}"
report() {
  echo "filament tests: missing tools:" >&2
  printf '%s\n' "${missing_lines[@]}" >&2
  echo "Install them all with:  sudo bash build/test-deps.sh" >&2
  echo "  (which runs: $install_command)" >&2
}

if $check_only || ! command -v apt-get >/dev/null 2>&1; then
  report
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    report
    exit 1
  fi
fi

echo "filament tests: installing ${missing_packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >&2
scan
if [ ${#missing_packages[@]} -gt 0 ]; then
  echo "filament tests: still missing after installing:" >&2
  printf '%s\n' "${missing_lines[@]}" >&2
  exit 1
fi
