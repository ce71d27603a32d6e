#!/bin/sh
# Start the engine of an extra swarm node. The container is not --privileged
# (Docker's --privileged asks for every capability the kernel knows, which a
# host with a smaller bounding set refuses), so the engine's cgroup mounts,
# which are this container's own subtrees, are made writable here first.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
for mount_point in $(awk '$3 == "cgroup" { print $2 }' /proc/self/mounts); do
    mount -o remount,bind,rw "$mount_point"
done
exec dockerd --host unix:///var/run/docker.sock --storage-driver overlay2 "$@"
