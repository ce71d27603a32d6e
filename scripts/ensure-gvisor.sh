#!/bin/sh
# Make sure the Docker engine offers gVisor's `runsc` runtime, so task
# containers can run with `--runtime runsc` (XC_RUNNER_RUNTIME=runsc).
# Idempotent: a no-op when `docker info` already lists runsc. Otherwise, as
# root on a Debian-like machine: install Debian's `runsc` package, add the
# runtime to /etc/docker/daemon.json (other keys kept), make dockerd reload it
# (SIGHUP, or `systemctl reload docker`; never a restart), wait until the
# engine lists it, and smoke-test it on a local image.
#
# runtimeArgs --network=none: runsc refuses to start in the host's network
# namespace otherwise ("cannot run with network enabled in root network
# namespace"); task containers run with --network none anyway.
# Never add --platform=kvm here: on these machines it hangs and leaves a
# sandbox process spinning a core.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

DAEMON_JSON=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}
GVISOR_WAIT_S=${GVISOR_WAIT_S:-30}
# Images tried, in order, for the smoke test (nothing can be pulled: local only).
SMOKE_IMAGES=${GVISOR_SMOKE_IMAGES:-"xc-base/debian:bookworm xc-base/python:bookworm debian:bookworm-slim"}
LOG_DIR=${XC_STATE_DIR:-.local}

say() { echo "ensure-gvisor: $*" >&2; }

runsc_listed() {
    docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'
}

if ! docker info >/dev/null 2>&1; then
    say "no Docker engine answers; run scripts/ensure-engine.sh (make engine) first."
    exit 1
fi

if runsc_listed; then
    exit 0
fi

started=$(date +%s)

if [ "$(id -u)" != 0 ]; then
    say "the Docker engine has no 'runsc' (gVisor) runtime, and I am not root."
    say "as root, run: sh scripts/ensure-gvisor.sh (or: sudo make gvisor);"
    say "or install runsc yourself and register it in $DAEMON_JSON as"
    say '  {"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=none"]}}}'
    say "then reload dockerd (systemctl reload docker, or kill -HUP its pid)."
    exit 1
fi

case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
    unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
    *)
        say "DOCKER_HOST=$DOCKER_HOST is not this machine's engine: register runsc on that engine's host."
        exit 1
        ;;
esac

if ! command -v runsc >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        say "runsc is not installed and this is not a Debian-like machine (no apt-get);"
        say "install gVisor (https://gvisor.dev/docs/user_guide/install/) and run this again."
        exit 1
    fi
    say "installing runsc (Debian package)"
    # Try with the package lists we have; refresh them only when that fails.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            runsc >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            runsc >/dev/null
    fi
fi
RUNSC=$(command -v runsc)
say "$("$RUNSC" --version 2>/dev/null | head -n 1 || echo "runsc at $RUNSC")"

# Merge, not overwrite: every other key of daemon.json stays as it was. The
# file is replaced atomically, after a backup when it existed.
say "registering runtime runsc in $DAEMON_JSON"
mkdir -p "$(dirname "$DAEMON_JSON")"
python3 - "$DAEMON_JSON" "$RUNSC" <<'EOF'
import json, os, shutil, sys, time

path, runsc = sys.argv[1], sys.argv[2]
wanted = {"path": runsc, "runtimeArgs": ["--network=none"]}
config = {}
if os.path.exists(path):
    try:
        with open(path) as handle:
            text = handle.read()
        config = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        sys.exit(f"ensure-gvisor: {path} is not valid JSON ({exc}); fix it and run this again")
    if not isinstance(config, dict):
        sys.exit(f"ensure-gvisor: {path} does not hold a JSON object; fix it and run this again")
runtimes = config.setdefault("runtimes", {})
if not isinstance(runtimes, dict):
    sys.exit(f'ensure-gvisor: "runtimes" in {path} is not a JSON object; fix it first')
if runtimes.get("runsc") != wanted:
    if os.path.exists(path):
        backup = f"{path}.bak-{time.strftime('%Y%m%d%H%M%S')}"
        shutil.copy2(path, backup)
        print(f"ensure-gvisor: previous {path} saved as {backup}", file=sys.stderr)
    if "runsc" in runtimes:
        print(f"ensure-gvisor: replacing runtime runsc {json.dumps(runtimes['runsc'])}",
              file=sys.stderr)
    runtimes["runsc"] = wanted
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as handle:
        json.dump(config, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)
EOF

# Reload, never restart: running containers and the engine's state stay.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker 2>/dev/null; then
    say "reloading dockerd (systemctl reload docker)"
    systemctl reload docker
else
    pid=""
    if [ -r /var/run/docker.pid ]; then
        pid=$(cat /var/run/docker.pid)
    fi
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        pid=$(pidof dockerd 2>/dev/null || true)
    fi
    case "$pid" in
        "" | *" "*)
            say "cannot tell which process is dockerd (pids: '${pid:-none}'); reload it yourself"
            say "(kill -HUP <dockerd pid>) and run this again."
            exit 1
            ;;
    esac
    say "reloading dockerd (kill -HUP $pid)"
    kill -HUP "$pid"
fi

waited=0
until runsc_listed; do
    if [ "$waited" -ge "$GVISOR_WAIT_S" ]; then
        say "the engine does not list runsc ${GVISOR_WAIT_S}s after the reload."
        say "is $DAEMON_JSON the file this dockerd reads (dockerd --config-file)?"
        if [ -r "$LOG_DIR/dockerd.log" ]; then
            grep -i -E 'reload|runtime|daemon.json' "$LOG_DIR/dockerd.log" | tail -n 10 >&2 || true
        fi
        exit 1
    fi
    sleep 1
    waited=$((waited + 1))
done

# Smoke test on an image that is already here (nothing can be pulled).
smoke_image=""
for image in $SMOKE_IMAGES; do
    if docker image inspect "$image" >/dev/null 2>&1; then
        smoke_image=$image
        break
    fi
done
if [ -z "$smoke_image" ]; then
    say "runsc registered; smoke test skipped: none of $SMOKE_IMAGES is built yet (make base-images)."
elif out=$(docker run --rm --runtime=runsc --network none "$smoke_image" true 2>&1); then
    say "smoke test passed: docker run --runtime=runsc --network none $smoke_image true"
else
    say "runsc is registered but a container does not run under it:"
    echo "$out" >&2
    exit 1
fi
say "gVisor ready in $(($(date +%s) - started))s"
