"""`make k8s-up` and `make k8s-down`: a real single-node Kubernetes 1.20 on this machine.

up:   certificates, a containerd of the cluster's own, etcd, kube-apiserver,
      kube-controller-manager, kube-scheduler and a kubelet, all on loopback; waits for
      the node to be Ready, writes the kubeconfig (build/k8s/kubeconfig), imports the task
      images (`docker save`, read-only on the Docker engine) and prints how long each step
      took. The binaries come from scripts/k8s-build.sh's cache.
down: deletes every Pod, stops what `up` started (by the pids it recorded), unmounts and
      removes its containers' mounts, cgroups, network namespaces and bridge, puts back
      the kernel settings the kubelet changed, and removes build/k8s.

Never touched: the Docker engine, its containerd, its cgroups and networks, the host's
iptables rules and apt configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from scripts.k8s_config import (
    BRIDGE,
    CGROUP_ROOT,
    KERNEL_TUNABLES,
    NO_CLOUD,
    NODE_NAME,
    Layout,
    Ports,
    apiserver_command,
    cni_conflist,
    containerd_toml,
    controller_manager_command,
    etcd_command,
    kubelet_command,
    kubelet_yaml,
    registry_hosts,
    scheduler_command,
)
from scripts.k8s_down import down, remove_shared
from scripts.k8s_pause import write_archive
from scripts.k8s_pki import kubeconfig, make_all

REPO = Path(__file__).resolve().parent.parent
LAYOUT = Layout(REPO / "build" / "k8s")
DEFAULT_CACHE = Path.home() / ".cache" / "xc-runner" / "k8s-1.20.2"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "pause")
# Started in this order, stopped in the reverse one.
COMPONENTS = ("containerd", "etcd", "apiserver", "controller-manager", "scheduler", "kubelet")
_READY_TIMEOUT_S = 120.0


class Refused(SystemExit):
    """`up` will not start: nothing was started, nothing is to be stopped."""


def say(text: str) -> None:
    sys.stdout.write(f"k8s: {text}\n")
    sys.stdout.flush()


@contextmanager
def step(name: str, times: dict[str, float]) -> Iterator[None]:
    began = time.monotonic()
    yield
    times[name] = time.monotonic() - began
    say(f"{name}: {times[name]:.1f} s")


def advertise_ip() -> str:
    """The machine's own address (the API server may not advertise loopback); nothing is
    sent to it: every component listens on 127.0.0.1."""
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "scope", "global"],
        check=True, capture_output=True, text=True, timeout=10,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        parts = line.split()
        if parts[1] != "docker0" and not parts[1].startswith(("br-", BRIDGE, "veth")):
            return parts[3].split("/")[0]
    raise SystemExit("k8s: no global IPv4 address to advertise")


def start(name: str, command: list[str]) -> int:
    """Start a component in a session of its own, its output in logs/NAME.log."""
    log = (LAYOUT.base / "logs" / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        cwd="/", start_new_session=True, env={**os.environ, **NO_CLOUD},
    )  # fmt: skip
    (LAYOUT.base / "pids" / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def _died() -> str | None:
    """The first component `up` started that is no longer running, with its last lines."""
    for pid_file in sorted((LAYOUT.base / "pids").glob("*.pid")):
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        except (ProcessLookupError, OSError):
            state = "Z"
        if state == "Z":
            log = (LAYOUT.base / "logs" / f"{pid_file.stem}.log").read_text(errors="replace")
            tail = [line for line in log.splitlines() if line[:1] in ("E", "F")][-5:]
            return f"{pid_file.stem} exited: " + " | ".join(tail or log.splitlines()[-5:])
    return None


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = _READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        died = _died()
        if died is not None:
            raise SystemExit(f"k8s: {died}")
        if time.monotonic() > deadline:
            logs = LAYOUT.base / "logs"
            raise SystemExit(f"k8s: {what} not ready after {timeout_s:g} s (see {logs})")
        time.sleep(0.2)


def kubectl(*args: str, timeout_s: float = 30.0, check: bool = True) -> str:
    done = subprocess.run(
        ["kubectl", f"--kubeconfig={LAYOUT.kubeconfig}", *args],
        capture_output=True, text=True, timeout=timeout_s, check=False,
    )  # fmt: skip
    if check and done.returncode != 0:
        raise SystemExit(f"k8s: kubectl {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def ctr(*args: str, stdin: int | None = None, timeout_s: float = 300.0) -> str:
    done = subprocess.run(
        ["ctr", "--address", str(LAYOUT.socket), "--namespace", "k8s.io", *args],
        stdin=stdin, capture_output=True, text=True, timeout=timeout_s, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"k8s: ctr {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def answers(*args: str) -> Callable[[], bool]:
    def check() -> bool:
        command = ["kubectl", f"--kubeconfig={LAYOUT.kubeconfig}", *args]
        try:
            done = subprocess.run(command, capture_output=True, timeout=10, check=False)
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    return check


def save_tunables() -> None:
    values = {}
    for name in KERNEL_TUNABLES:
        path = Path("/proc/sys") / name.replace(".", "/")
        with suppress(OSError):
            values[name] = path.read_text().strip()
    (LAYOUT.base / "sysctl.json").write_text(json.dumps(values))


def shared_present() -> bool:
    """Whether a cluster's bridge or cgroups are on the machine (names shared by all clones)."""
    return (
        Path(f"/sys/class/net/{BRIDGE}").exists()
        or Path(f"/sys/fs/cgroup/pids{CGROUP_ROOT}").exists()
    )


def kubelet_running() -> bool:
    """Whether a kubelet of `make k8s-up` (of any clone) runs on this machine."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if f"--hostname-override={NODE_NAME}".encode() in args and any(
            arg.endswith(b"/kubelet.yaml") for arg in args
        ):
            return True
    return False


def stale_leftovers() -> bool:
    """Whether a cluster's bridge or cgroups are there while no kubelet of ours runs (a
    cluster stopped without `make k8s-down`)."""
    return shared_present() and not kubelet_running()


def prepare(cache: Path) -> Ports:
    missing = [b for b in BINARIES if not (cache / "bin" / b).is_file()]
    if missing:
        raise Refused(f"k8s: {', '.join(missing)} missing in {cache}/bin: run scripts/k8s-build.sh")
    if stale_leftovers():
        say(f"removing what a cluster that is gone left (bridge {BRIDGE}, cgroups {CGROUP_ROOT})")
        remove_shared()
    if shared_present() or kubelet_running():
        raise Refused(
            f"k8s: another cluster of `make k8s-up` runs on this machine (bridge {BRIDGE}, "
            f"cgroups {CGROUP_ROOT}): one at a time; `make k8s-down` in its clone first"
        )
    if (LAYOUT.base / "pids").is_dir() and any((LAYOUT.base / "pids").iterdir()):
        raise Refused(f"k8s: {LAYOUT.base} holds a cluster that does not answer: make k8s-down")
    for sub in ("logs", "pids", "run", "cni", "kubelet", "etcd", "containerd"):
        (LAYOUT.base / sub).mkdir(parents=True, exist_ok=True)
    save_tunables()
    ports = Ports.pick()
    (LAYOUT.base / "ports.json").write_text(ports.to_json())
    return ports


def make_cgroup_root() -> None:
    """The kubelet's cgroup root, /xc-k8s in each hierarchy (a cpuset one gets its parent's
    CPUs and memory nodes); `make k8s-down` removes it."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        if hierarchy.name == "unified" or not (hierarchy / "cgroup.procs").exists():
            continue
        folder = hierarchy / CGROUP_ROOT.strip("/")
        folder.mkdir(exist_ok=True)
        for name in ("cpuset.cpus", "cpuset.mems"):
            if (folder / name).exists() and not (folder / name).read_text().strip():
                (folder / name).write_text((hierarchy / name).read_text())


def write_configs(ports: Ports, ip: str) -> None:
    pki = LAYOUT.base / "pki"
    make_all(pki, ip)
    server = f"https://127.0.0.1:{ports.apiserver}"
    for stem, target in (
        ("admin", "kubeconfig"),
        ("controller-manager", "controller-manager.kubeconfig"),
        ("scheduler", "scheduler.kubeconfig"),
        ("kubelet", "kubelet.kubeconfig"),
    ):
        (LAYOUT.base / target).write_text(kubeconfig(pki, server, stem))
        (LAYOUT.base / target).chmod(0o600)
    (LAYOUT.base / "containerd.toml").write_text(containerd_toml(LAYOUT))
    (LAYOUT.base / "cni" / "10-xc-k8s.conflist").write_text(cni_conflist(LAYOUT))
    (LAYOUT.base / "registry" / "docker.io").mkdir(parents=True, exist_ok=True)
    (LAYOUT.base / "registry" / "docker.io" / "hosts.toml").write_text(registry_hosts())
    (LAYOUT.base / "kubelet.yaml").write_text(kubelet_yaml(LAYOUT, ports))


def start_runtime(cache: Path) -> None:
    start("containerd", ["containerd", "--config", str(LAYOUT.base / "containerd.toml")])
    wait_for("containerd", LAYOUT.socket.exists, 30)
    archive = LAYOUT.base / "pause.tar"
    write_archive(cache / "bin" / "pause", archive)
    ctr("images", "import", str(archive))
    archive.unlink()


def start_control_plane(cache: Path, ports: Ports, ip: str) -> None:
    bins = cache / "bin"
    start("etcd", etcd_command(LAYOUT, ports))
    start("apiserver", apiserver_command(LAYOUT, ports, ip, bins / "kube-apiserver"))
    wait_for("the API server", answers("get", "--raw", "/readyz"))
    manager = bins / "kube-controller-manager"
    start("controller-manager", controller_manager_command(LAYOUT, manager))
    start("scheduler", scheduler_command(LAYOUT, bins / "kube-scheduler"))


def node_ready() -> bool:
    out = subprocess.run(
        ["kubectl", f"--kubeconfig={LAYOUT.kubeconfig}", "get", "nodes", "-o",
         "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"],
        capture_output=True, text=True, timeout=10, check=False,
    ).stdout  # fmt: skip
    return out.strip() == "True"


def import_images(images: list[str]) -> None:
    """The task images, from the Docker engine (read only: `docker save`) into the cluster's
    containerd; Pods use them with imagePullPolicy Never (or IfNotPresent)."""
    with subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE) as save:
        ctr("images", "import", "--no-unpack=false", "-", stdin=save.stdout.fileno())
        if save.wait(timeout=300) != 0:
            raise SystemExit(f"k8s: docker save {' '.join(images)} failed")


def already_up() -> bool:
    return (LAYOUT.base / "pids" / "kubelet.pid").exists() and node_ready()


def up(cache: Path, images: list[str]) -> None:
    times: dict[str, float] = {}
    began = time.monotonic()
    if already_up():
        say(f"already up; KUBECONFIG={LAYOUT.kubeconfig}")
        if images:
            with step(f"task images imported ({len(images)})", times):
                import_images(images)
        return
    ports = prepare(cache)
    ip = advertise_ip()
    with step("certificates and configuration", times):
        write_configs(ports, ip)
    with step("containerd (and the pause image)", times):
        start_runtime(cache)
    with step("etcd, API server, controller-manager, scheduler", times):
        start_control_plane(cache, ports, ip)
    with step("kubelet, node Ready", times):
        make_cgroup_root()
        start("kubelet", kubelet_command(LAYOUT, cache / "bin" / "kubelet"))
        wait_for("the node", node_ready)
        wait_for("the default service account", answers("get", "serviceaccount", "default"))
    if images:
        with step(f"task images imported ({len(images)})", times):
            import_images(images)
    say(f"up in {time.monotonic() - began:.1f} s; KUBECONFIG={LAYOUT.kubeconfig}")
    (LAYOUT.base / "times.json").write_text(json.dumps(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="k8s_cluster")
    sub = parser.add_subparsers(dest="command", required=True)
    up_ = sub.add_parser("up")
    cache = Path(os.environ.get("XC_K8S_CACHE") or DEFAULT_CACHE)
    up_.add_argument("--cache", type=Path, default=cache)
    up_.add_argument("images", nargs="*")
    sub.add_parser("down")
    args = parser.parse_args(argv)
    if args.command == "up":
        try:
            up(args.cache, args.images)
        except Refused:
            raise
        except BaseException:
            say("start-up failed: stopping what was started")
            down(LAYOUT, keep_logs=True)
            raise
    else:
        down(LAYOUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
