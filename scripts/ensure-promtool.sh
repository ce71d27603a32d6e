#!/bin/sh
# Make sure the host has promtool, for `make lint`'s check and unit tests of the alerting
# rules (deploy/prometheus/): Debian's prometheus package ships it. Idempotent: installs
# only when missing, and only as root on a machine with apt-get (CI, fresh Debian boxes);
# elsewhere it names what to install and fails. The package's own service is never
# started: only promtool is used.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

if command -v promtool >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-promtool: promtool is missing (Debian package prometheus);" >&2
    echo "ensure-promtool: install it and run this again (make lint checks the alerting rules with it)." >&2
    exit 1
fi

sh "$(dirname "$0")/apt-install.sh" ensure-promtool prometheus
