#!/bin/sh
# Install Debian packages for the project's tools and tests, never starting their services:
# `sh scripts/apt-install.sh NAME PACKAGE...` (NAME prefixes its lines). Debian starts a
# package's service when it is installed (a registry, a Prometheus server, each listening on
# every interface) unless policy-rc.d says no: it says no, for this install only. Root and
# apt-get only (the ensure-*.sh scripts check first and say what to install elsewhere).
set -eu

name=$1
shift
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

echo "$name: installing $* (Debian packages)" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
