#!/bin/sh
# Make sure a Docker engine answers. When none does and we are root on a
# Debian-like machine without systemd (CI, fresh dev boxes), install docker.io
# and start dockerd in the background, in a session of its own: dockerd stops on
# SIGINT, so an engine in the caller's process group would stop with the first
# Ctrl-C of `make run`. Idempotent: a no-op when `docker info` already answers.
# Its last line says what it did.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
LOG_DIR=${XC_STATE_DIR:-.local}
mkdir -p "$LOG_DIR"
LOG_DIR=$(CDPATH='' cd -- "$LOG_DIR" && pwd)
ENGINE_WAIT_S=${ENGINE_WAIT_S:-60}

engine_answers() { docker info >/dev/null 2>&1; }

if engine_answers; then
    echo "ensure-engine: the engine answers"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "ensure-engine: no Docker engine answers and I am not root;" >&2
    echo "ensure-engine: start Docker (or set DOCKER_HOST) and run this again." >&2
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-init >/dev/null 2>&1; then
    # tini provides docker-init, which `--init` (zombie reaping in task
    # containers) needs; docker.io only recommends it.
    sh "$HERE/apt-install.sh" ensure-engine docker.io tini iptables ca-certificates
    installed="Debian's docker.io installed, "
fi

echo "ensure-engine: starting dockerd (log: $LOG_DIR/dockerd.log)" >&2
# Its own session (no controlling terminal, no process group of ours), in /, with
# no stdin: it outlives the make that started it and ignores that terminal's Ctrl-C.
(cd / && setsid -f dockerd </dev/null >"$LOG_DIR/dockerd.log" 2>&1)

started=$(date +%s)
until engine_answers; do
    waited=$(($(date +%s) - started))
    if [ "$waited" -ge "$ENGINE_WAIT_S" ]; then
        echo "ensure-engine: dockerd did not answer within ${ENGINE_WAIT_S}s; see $LOG_DIR/dockerd.log" >&2
        tail -n 20 "$LOG_DIR/dockerd.log" >&2 || true
        exit 1
    fi
    sleep 0.2
done
echo "ensure-engine: ${installed:-}dockerd started (log: $LOG_DIR/dockerd.log)"
