#!/bin/sh
# Make sure the host has what the task SDKs' own tests need: Go (`go test` of
# the Go SDK and its sample), Node.js (`node --test` of the Node.js SDK), jq and
# dash (the shell SDK's tests run its helper on the host). All are Debian
# packages: golang-go (Go 1.19), nodejs, jq, dash. Idempotent: installs only
# what is missing, and only as root on a machine with apt-get (CI, fresh
# Debian boxes); elsewhere it names what to install and fails.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

missing=''
command -v go >/dev/null 2>&1 || missing="$missing golang-go"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v jq >/dev/null 2>&1 || missing="$missing jq"
command -v dash >/dev/null 2>&1 || missing="$missing dash"

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-toolchains: missing:$missing (Debian package names);" >&2
    echo "ensure-toolchains: install them (Go >= 1.19, Node.js >= 18) and run this again." >&2
    exit 1
fi

echo "ensure-toolchains: installing$missing (Debian packages)" >&2
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
