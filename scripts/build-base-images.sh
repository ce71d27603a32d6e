#!/bin/sh
# Decide the base images of the task images, and build them when no registry
# can be reached.
#
#   PYTHON_BASE, DEBIAN_BASE  when both are set, they are used as given and
#                             nothing is pulled or built; one that is set is kept.
#   Otherwise, when `docker pull debian:bookworm-slim` works: python:3.12-slim
#   and debian:bookworm-slim. Else (no registry, as on the CI machines) build
#   xc-base/debian:bookworm with debootstrap, and xc-base/python:bookworm on it;
#   an image that already exists is not rebuilt (`docker rmi` it to rebuild).
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

REGISTRY_DEBIAN=debian:bookworm-slim
REGISTRY_PYTHON=python:3.12-slim
LOCAL_DEBIAN=xc-base/debian:$SUITE
LOCAL_PYTHON=xc-base/python:$SUITE

log() { echo "build-base-images: $*" >&2; }
die() { log "error: $*"; exit 1; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

WORK=''
cleanup() {
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        # debootstrap mounts /proc and /sys in the root fs; a failed run may
        # leave them mounted: unmount before deleting, and never cross into them.
        for mnt in proc sys dev/pts; do
            umount "$WORK/rootfs/$mnt" 2>/dev/null || true
        done
        rm -rf --one-file-system "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

registry_reachable() {
    log "checking whether $REGISTRY_DEBIAN can be pulled (at most ${PULL_TIMEOUT_S}s)"
    timeout "$PULL_TIMEOUT_S" docker pull -q "$REGISTRY_DEBIAN" >/dev/null 2>&1
}

build_local_debian() {
    if image_exists "$LOCAL_DEBIAN"; then
        log "$LOCAL_DEBIAN exists; not rebuilt"
        return
    fi
    [ "$(id -u)" = 0 ] || die "building $LOCAL_DEBIAN needs debootstrap, hence root"
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "installing debootstrap (Debian package)"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            debootstrap >&2
    fi
    rootfs="$WORK/rootfs"
    log "debootstrap $SUITE from $MIRROR (about a minute)"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >&2 \
        || die "debootstrap failed (is $MIRROR reachable?)"
    rm -rf "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/info" \
        "$rootfs/usr/share/locale"
    rm -f "$rootfs"/var/cache/apt/archives/*.deb
    rm -rf "$rootfs"/var/lib/apt/lists/*
    log "importing the root filesystem as $LOCAL_DEBIAN"
    tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["bash"]' \
        - "$LOCAL_DEBIAN" >&2
    rm -rf --one-file-system "$rootfs"
}

build_local_python() {
    if image_exists "$LOCAL_PYTHON"; then
        log "$LOCAL_PYTHON exists; not rebuilt"
        return
    fi
    mkdir -p "$WORK/python"
    cat >"$WORK/python/Dockerfile" <<EOF
FROM $LOCAL_DEBIAN
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\
           /usr/share/doc /usr/share/man /usr/share/info
CMD ["python3"]
EOF
    log "building $LOCAL_PYTHON (python3 from Debian)"
    docker build -t "$LOCAL_PYTHON" "$WORK/python" >&2
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/ensure-engine.sh)"

if [ -n "${PYTHON_BASE:-}" ] && [ -n "${DEBIAN_BASE:-}" ]; then
    log "PYTHON_BASE and DEBIAN_BASE are set: using them as given, building nothing"
elif registry_reachable; then
    log "a registry answers: using $REGISTRY_PYTHON and $REGISTRY_DEBIAN"
    DEBIAN_BASE=${DEBIAN_BASE:-$REGISTRY_DEBIAN}
    if [ -z "${PYTHON_BASE:-}" ]; then
        PYTHON_BASE=$REGISTRY_PYTHON
        docker pull -q "$PYTHON_BASE" >&2
    fi
else
    log "no registry answers: using locally built bases from Debian packages"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/xc-base.XXXXXX")
    build_local_debian  # needed even with DEBIAN_BASE set: the local python image builds on it
    DEBIAN_BASE=${DEBIAN_BASE:-$LOCAL_DEBIAN}
    if [ -z "${PYTHON_BASE:-}" ]; then
        build_local_python
        PYTHON_BASE=$LOCAL_PYTHON
    fi
fi

mkdir -p "$(dirname -- "$ENV_FILE")"
printf 'PYTHON_BASE=%s\nDEBIAN_BASE=%s\n' "$PYTHON_BASE" "$DEBIAN_BASE" >"$ENV_FILE"
log "wrote $ENV_FILE"
echo "PYTHON_BASE=$PYTHON_BASE DEBIAN_BASE=$DEBIAN_BASE"
