#!/bin/sh
# Decide the base images of the task images, and build them when no registry
# can be reached.
#
#   sh scripts/build-base-images.sh          decide, build what is missing
#   sh scripts/build-base-images.sh tools    only install mmdebstrap when it may be needed
#
#   PYTHON_BASE, DEBIAN_BASE  when both are set, they are used as given and
#                             nothing is pulled or built; one that is set is kept.
#   Otherwise, when `docker pull debian:bookworm-slim` works: python:3.12-slim
#   and debian:bookworm-slim. Else (no registry, as on the CI machines) build
#   xc-base/debian:bookworm (Debian's minbase) and xc-base/python:bookworm (the
#   same with python3) from Debian packages, with one run of mmdebstrap; an image
#   that already exists is not rebuilt (`docker rmi` both to rebuild).
#
# The engine may still be starting (`make run` starts both at once): on a machine
# with no engine installed yet (nothing built, nothing to reuse) where the
# registry's name does not resolve, the root filesystems are built at once and
# the engine is waited for (ENGINE_WAIT_S, default 120) only to import them;
# otherwise the engine is waited for first, and asked as above.
#
# Prints `PYTHON_BASE=... DEBIAN_BASE=...` as its last line on stdout and writes
# the same two assignments, one a line, to build/base-images.env, which
# scripts/build_images.py reads. Progress goes to stderr.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
ENV_FILE="$ROOT/build/base-images.env"
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
PULL_TIMEOUT_S=${PULL_TIMEOUT_S:-20}
ENGINE_WAIT_S=${ENGINE_WAIT_S:-120}

REGISTRY_DEBIAN=debian:bookworm-slim
REGISTRY_PYTHON=python:3.12-slim
REGISTRY_HOST=registry-1.docker.io
LOCAL_DEBIAN=xc-base/debian:$SUITE
LOCAL_PYTHON=xc-base/python:$SUITE

log() { echo "build-base-images: $*" >&2; }
die() { log "error: $*"; exit 1; }
engine_answers() { docker info >/dev/null 2>&1; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

WORK=''
cleanup() {
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        # A chroot may have mounts left by a failed run: never cross into them.
        rm -rf --one-file-system "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_mmdebstrap() {
    command -v mmdebstrap >/dev/null 2>&1 && return
    [ "$(id -u)" = 0 ] || die "building the base images needs mmdebstrap (Debian package), as root"
    sh "$ROOT/scripts/apt-install.sh" build-base-images mmdebstrap
}

wait_for_engine() {
    started=$(date +%s)
    until engine_answers; do
        [ $(($(date +%s) - started)) -lt "$ENGINE_WAIT_S" ] \
            || die "no Docker engine answered within ${ENGINE_WAIT_S} s (run scripts/ensure-engine.sh)"
        sleep 0.2
    done
}

registry_reachable() {
    log "checking whether $REGISTRY_DEBIAN can be pulled (at most ${PULL_TIMEOUT_S}s)"
    timeout "$PULL_TIMEOUT_S" docker pull -q "$REGISTRY_DEBIAN" >/dev/null 2>&1
}

# Debian's minbase into $WORK/rootfs, then two archives of it: debian.tar as it is,
# python.tar once python3 is installed in it (from the package lists mmdebstrap
# fetched, kept for that and left out of both). Documentation, manuals and
# translations are not installed, in these images or in any built on them
# (dpkg's path-exclude, as Docker's official Debian images do).
build_root_filesystems() {
    ensure_mmdebstrap
    rootfs="$WORK/rootfs"
    log "mmdebstrap $SUITE (minbase) from $MIRROR, then python3 in it"
    mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$SUITE" "$rootfs" "$MIRROR" >&2 \
        || die "mmdebstrap failed (is $MIRROR reachable?)"
    pack "$rootfs" "$WORK/debian.tar"
    DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -q \
        --no-install-recommends python3 >&2 || die "apt-get install python3 failed in the root filesystem"
    pack "$rootfs" "$WORK/python.tar"
    rm -rf --one-file-system "$rootfs"
}

# Without the lists and caches, and without the host's resolv.conf and hostname,
# which mmdebstrap copies in (the engine gives each container its own).
pack() {
    tar -C "$1" --exclude='./var/lib/apt/lists/*' --exclude='./var/cache/apt/*' \
        --exclude='./tmp/*' --exclude=./etc/resolv.conf --exclude=./etc/hostname -cf "$2" .
}

import_image() {  # ARCHIVE IMAGE CMD
    log "importing $2"
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "CMD [\"$3\"]" \
        "$1" "$2" >/dev/null
}

build_local() {
    if image_exists "$LOCAL_DEBIAN" && image_exists "$LOCAL_PYTHON"; then
        log "$LOCAL_DEBIAN and $LOCAL_PYTHON exist; not rebuilt"
        return
    fi
    [ -f "$WORK/python.tar" ] || build_root_filesystems
    import_image "$WORK/debian.tar" "$LOCAL_DEBIAN" bash &
    debian=$!
    import_image "$WORK/python.tar" "$LOCAL_PYTHON" python3 || die "docker import of $LOCAL_PYTHON failed"
    wait "$debian" || die "docker import of $LOCAL_DEBIAN failed"
}

if [ "${1:-}" = tools ]; then
    if [ -z "${PYTHON_BASE:-}" ] || [ -z "${DEBIAN_BASE:-}" ]; then
        ensure_mmdebstrap
    fi
    exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xc-base.XXXXXX")
if [ -n "${PYTHON_BASE:-}" ] && [ -n "${DEBIAN_BASE:-}" ]; then
    log "PYTHON_BASE and DEBIAN_BASE are set: using them as given, building nothing"
else
    if ! engine_answers && ! command -v dockerd >/dev/null 2>&1 \
            && ! getent hosts "$REGISTRY_HOST" >/dev/null 2>&1; then
        log "no engine yet, and $REGISTRY_HOST has no address: building the bases meanwhile"
        build_root_filesystems
    fi
    wait_for_engine
    if [ ! -f "$WORK/python.tar" ] && registry_reachable; then
        log "a registry answers: using $REGISTRY_PYTHON and $REGISTRY_DEBIAN"
        DEBIAN_BASE=${DEBIAN_BASE:-$REGISTRY_DEBIAN}
        if [ -z "${PYTHON_BASE:-}" ]; then
            PYTHON_BASE=$REGISTRY_PYTHON
            docker pull -q "$PYTHON_BASE" >&2
        fi
    else
        log "no registry answers: using locally built bases from Debian packages"
        build_local  # both, even with one of them set: one run of mmdebstrap makes both
        DEBIAN_BASE=${DEBIAN_BASE:-$LOCAL_DEBIAN}
        PYTHON_BASE=${PYTHON_BASE:-$LOCAL_PYTHON}
    fi
fi

mkdir -p "$(dirname -- "$ENV_FILE")"
printf 'PYTHON_BASE=%s\nDEBIAN_BASE=%s\n' "$PYTHON_BASE" "$DEBIAN_BASE" >"$ENV_FILE"
log "wrote $ENV_FILE"
echo "PYTHON_BASE=$PYTHON_BASE DEBIAN_BASE=$DEBIAN_BASE"
