#!/bin/sh
# Make sure the host has what the registry tests need: Debian's docker-registry
# (the distribution registry 2.8, which the tests start on a loopback port of
# their own) and apache2-utils' htpasswd (its credentials file, bcrypt).
# Idempotent: installs only what is missing, and only as root on a machine with
# apt-get (CI, fresh Debian boxes); elsewhere it names what to install and fails.
# The package's own service is never started: the tests start the binary.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

missing=''
[ -x /usr/bin/docker-registry ] || missing="$missing docker-registry"
[ -x /usr/bin/htpasswd ] || missing="$missing apache2-utils"

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-registry: missing:$missing (Debian package names);" >&2
    echo "ensure-registry: install them and run this again (the registry tests skip without them)." >&2
    exit 1
fi

# shellcheck disable=SC2086 # one word per package
sh "$(dirname "$0")/apt-install.sh" ensure-registry $missing
