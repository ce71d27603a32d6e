#!/bin/sh
# Install the Debian packages named as arguments, quietly, without starting their services:
# Debian starts a package's service when it is installed (a registry on port 5000, etcd on
# its default ports, ...) unless policy-rc.d says no; it says no for this install only.
# Root, on a machine with apt-get (the scripts that call it check). Used by
# scripts/ensure-registry.sh and scripts/k8s-packages.sh.
set -eu

policy=/usr/sbin/policy-rc.d
ours=''
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    ours=1
fi
cleanup() { if [ -n "$ours" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
