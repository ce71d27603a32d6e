#!/bin/sh
# Make sure a Docker engine answers. When none does and we are root on a
# Debian-like machine without systemd (CI, fresh dev boxes), install docker.io
# and start dockerd in the background, in a session of its own: dockerd stops on
# SIGINT, so an engine in the caller's process group would stop with the first
# Ctrl-C of `make run`. Idempotent: a no-op when `docker info` already answers.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

LOG_DIR=${XC_STATE_DIR:-.local}
mkdir -p "$LOG_DIR"
LOG_DIR=$(CDPATH='' cd -- "$LOG_DIR" && pwd)
ENGINE_WAIT_S=${ENGINE_WAIT_S:-60}

engine_answers() { docker info >/dev/null 2>&1; }

# docker-compose (v1, a Debian package) runs compose.yaml; best effort, as only
# `make compose-up` and its test need it.
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
        && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-engine: installing docker-compose (Debian package)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends docker-compose >/dev/null; } \
        || echo "ensure-engine: could not install docker-compose; compose tests will skip" >&2
fi

if engine_answers; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "ensure-engine: no Docker engine answers and I am not root;" >&2
    echo "ensure-engine: start Docker (or set DOCKER_HOST) and run this again." >&2
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-init >/dev/null 2>&1; then
    echo "ensure-engine: installing docker.io (Debian package)" >&2
    apt-get update -qq
    # tini provides docker-init, which `--init` (zombie reaping in task
    # containers) needs; docker.io only recommends it.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io tini iptables ca-certificates >/dev/null
fi

echo "ensure-engine: starting dockerd (log: $LOG_DIR/dockerd.log)" >&2
# Its own session (no controlling terminal, no process group of ours), in /, with
# no stdin: it outlives the make that started it and ignores that terminal's Ctrl-C.
(cd / && setsid -f dockerd </dev/null >"$LOG_DIR/dockerd.log" 2>&1)

waited=0
until engine_answers; do
    if [ "$waited" -ge "$ENGINE_WAIT_S" ]; then
        echo "ensure-engine: dockerd did not answer within ${ENGINE_WAIT_S}s; see $LOG_DIR/dockerd.log" >&2
        tail -n 20 "$LOG_DIR/dockerd.log" >&2 || true
        exit 1
    fi
    sleep 1
    waited=$((waited + 1))
done
echo "ensure-engine: engine ready after ${waited}s" >&2
