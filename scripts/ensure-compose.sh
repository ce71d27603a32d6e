#!/bin/sh
# docker-compose (v1, a Debian package), which runs compose.yaml: for `make
# compose-up` and its test (`make test`), not for `make run`. Installs it when
# missing, as root on a machine with apt-get; elsewhere says so and goes on (the
# compose test then skips, or fails under CI=true).
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

if command -v docker-compose >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-compose: docker-compose is missing (Debian package docker-compose)" >&2
    exit 0
fi
sh "$HERE/apt-install.sh" ensure-compose docker-compose \
    || echo "ensure-compose: could not install docker-compose; compose tests will skip" >&2
