#!/bin/sh
# Make sure the host has a headless browser for the cockpit's browser test:
# Debian's chromium and chromium-driver (selenium drives them, given both paths,
# so it never downloads a browser or a driver), and npm, which installs axe-core
# for the accessibility test (`make axe`). Idempotent: installs only what
# is missing, and only as root on a machine with apt-get (CI, fresh Debian
# boxes); elsewhere it names what to install and fails.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

missing=''
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/chromedriver ] || missing="$missing chromium-driver"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: missing:$missing (Debian package names);" >&2
    echo "ensure-chromium: install them and run this again (the browser test skips without them)." >&2
    exit 1
fi

echo "ensure-chromium: installing$missing (Debian packages)" >&2
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
