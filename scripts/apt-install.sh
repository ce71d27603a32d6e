#!/bin/sh
# Install Debian packages, one apt-get at a time: the set-up's steps run at once
# (scripts/set_up.py), and a second apt-get fails on the lock the first one holds.
#
#   sh scripts/apt-install.sh WHO PACKAGE...
#
# Root only (the callers check). The package lists are updated only when a package
# has no candidate (a fresh machine: no lists yet) or the install fails (lists too
# old for the mirror), so that steps after the first one do not update them again.
# WHO prefixes the one line said on stderr; apt's own output is shown only if it fails.
# No package's service is started by its install (Debian starts one unless policy-rc.d
# says no: a registry, a Prometheus server, a second dockerd beside the one the set-up
# starts): policy-rc.d says no, for this install only.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

who=$1
shift
LOCK=/var/lib/apt/lists/xc-scenario-install.lock
APT_LOG=$(mktemp "${TMPDIR:-/tmp}/apt-install.XXXXXX")
POLICY=/usr/sbin/policy-rc.d
ours=''
cleanup() {
    rm -f "$APT_LOG"
    if [ -n "$ours" ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apt_quiet() {
    DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@" >>"$APT_LOG" 2>&1
}

install() {
    apt_quiet install --no-install-recommends "$@"
}

no_candidate() {
    for package in "$@"; do
        apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]' || return 0
    done
    return 1
}

mkdir -p "$(dirname "$LOCK")"
exec 9>"$LOCK"
flock 9
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
    ours=1
fi
echo "$who: installing $* (Debian packages)" >&2
if no_candidate "$@"; then
    apt_quiet update
fi
if ! install "$@"; then
    apt_quiet update && install "$@" || {
        tail -n 20 "$APT_LOG" >&2
        echo "$who: apt-get install $* failed" >&2
        exit 1
    }
fi
