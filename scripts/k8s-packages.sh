#!/bin/sh
# Make sure the host has what the single-node Kubernetes of `make k8s-up` needs, all
# Debian packages: etcd-server (3.4), containerd (1.6, run as a containerd of the
# cluster's own, never Docker's), runc, containernetworking-plugins (the bridge),
# golang-go, rsync, dpkg-dev and gcc (the build from source), openssl (certificates),
# iproute2 and iptables (the bridge plugin calls them). Idempotent: installs only what
# is missing, and only as root on a machine with apt-get (CI, fresh Debian boxes);
# elsewhere it names what to install and fails. No package's service is started.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

missing=''
[ -x /usr/bin/etcd ] || missing="$missing etcd-server"
[ -x /usr/bin/containerd ] || missing="$missing containerd"
command -v runc >/dev/null 2>&1 || missing="$missing runc"
[ -x /usr/lib/cni/bridge ] || missing="$missing containernetworking-plugins"
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
command -v rsync >/dev/null 2>&1 || missing="$missing rsync"
command -v dpkg-source >/dev/null 2>&1 || missing="$missing dpkg-dev"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v iptables >/dev/null 2>&1 || missing="$missing iptables"

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "k8s-packages: missing:$missing (Debian package names);" >&2
    echo "k8s-packages: install them and run this again (the Kubernetes tests skip without them)." >&2
    exit 1
fi

# shellcheck disable=SC2086 # one word per package
sh "$(dirname "$0")/apt-install.sh" k8s-packages $missing
