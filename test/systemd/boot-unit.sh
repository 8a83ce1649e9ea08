#!/bin/sh
# Boots a real systemd as PID 1 of fresh PID, mount, network, UTS, IPC and cgroup namespaces, with
# only the units in $BOOT/units, and starts $BOOT/units/boot.target. Used by
# test/helpers/systemd-boot.ts; run as root through `unshare --cgroup --pid --fork --mount
# --mount-proc --net --uts --ipc --kill-child`.
#
# Everything systemd could change is a fresh mount in this namespace, so nothing leaks to the host:
# /sys/fs/cgroup (systemd remounts it read-only), /run, /dev, /var/lib and the unit directories. The
# test's own files:
#   $BOOT/units/        unit files (boot.target, stub targets, the unit under test)
#   $BOOT/proc-devices  what /proc/devices says in here (majors by name, as DeviceAllow=char-… reads)
#   $BOOT/run/        files copied into /run (where the unit can read them)
#   $BOOT/nodes         device nodes to create, one per line: path mode major minor
#   $BOOT/systemd.log   systemd's own log (it writes to /dev/kmsg, which here is this file)
set -eu
BOOT="$1"

mount --make-rprivate /

# A private cgroup tree: the same hierarchies as the host, seen from this cgroup namespace's root.
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
  grep -E '^[^ ]+ /sys/fs/cgroup/[^ ]+ cgroup2? ' /proc/mounts >"$BOOT/cgroup-mounts"
  mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
  while read -r _ target type options _; do
    mkdir -p "$target"
    mount -t "$type" -o "$options" cgroup "$target"
  done <"$BOOT/cgroup-mounts"
fi

mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/systemd/system
cp "$BOOT"/units/* /run/systemd/system/
if [ -d "$BOOT/run" ]; then cp -r "$BOOT/run/." /run/; fi
for dir in /etc/systemd/system /usr/lib/systemd/system /var/lib; do
  mount -t tmpfs -o mode=755 tmpfs "$dir"
done

mount --bind "$BOOT/proc-devices" /proc/devices

mount -t tmpfs -o mode=755 tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
touch /dev/kmsg /dev/console
mount --bind "$BOOT/systemd.log" /dev/kmsg
while read -r path mode major minor; do
  mkdir -p "$(dirname "$path")"
  mknod -m "$mode" "$path" c "$major" "$minor"
done <"$BOOT/nodes"

exec env container=filament-test /lib/systemd/systemd --unit=boot.target --log-target=kmsg --log-level=debug
