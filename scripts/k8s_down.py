"""`make k8s-down`: stop the cluster of `make k8s-up` and remove everything it started.

In order: every Pod deleted through the API server (the kubelet tears down their
sandboxes and networks), the components stopped by the pids `up` recorded (the
kubelet first, containerd last, after its remaining containers are killed), the mounts
under the cluster's folder unmounted, the cgroups under /xc-k8s removed, the bridge
deleted, the kernel settings the kubelet changed put back, and the folder removed.
Safe to run when nothing is up, or after a failed `up`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from scripts.k8s_config import BRIDGE, CGROUP_ROOT, Layout

_STOP_ORDER = ("kubelet", "scheduler", "controller-manager", "apiserver", "etcd")
_TERM_WAIT_S = 10.0


def say(text: str) -> None:
    sys.stdout.write(f"k8s: {text}\n")
    sys.stdout.flush()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with suppress(OSError):
        return stat.read_text().split(") ", 1)[1][0] != "Z"
    return False


def _stop(layout: Layout, name: str) -> None:
    """SIGTERM the component `up` started (its session: its children too), SIGKILL after a
    while."""
    pid_file = layout.base / "pids" / f"{name}.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    for sig, wait_s in ((signal.SIGTERM, _TERM_WAIT_S), (signal.SIGKILL, 5.0)):
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _alive(pid):
            break
    pid_file.unlink()
    say(f"stopped {name}")


def _delete_pods(layout: Layout) -> None:
    """Delete every Pod, so that the kubelet tears down their sandboxes and networks."""
    if not (layout.kubeconfig.exists() and (layout.base / "pids" / "kubelet.pid").exists()):
        return
    with suppress(subprocess.TimeoutExpired):
        subprocess.run(
            ["kubectl", f"--kubeconfig={layout.kubeconfig}", "delete", "pods", "--all",
             "--all-namespaces", "--grace-period=1", "--timeout=40s", "--request-timeout=10s"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip


def _kill_containers(layout: Layout) -> None:
    """Whatever containers the kubelet left, killed and deleted through the cluster's own
    containerd (never Docker's)."""
    if not layout.socket.exists():
        return
    base = ["ctr", "--address", str(layout.socket), "--namespace", "k8s.io"]

    def run(*args: str) -> str:
        with suppress(subprocess.TimeoutExpired):
            return subprocess.run(
                [*base, *args], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        return ""

    for container in run("containers", "list", "--quiet").split():
        run("tasks", "kill", "--signal", "SIGKILL", container)
    time.sleep(0.5)
    for container in run("containers", "list", "--quiet").split():
        run("tasks", "delete", "--force", container)
        run("containers", "delete", container)


def _unmount(layout: Layout) -> None:
    """Every mount under the cluster's folder, deepest first."""
    prefix = str(layout.base) + "/"
    with open("/proc/self/mounts") as mounts:
        targets = [line.split()[1] for line in mounts]
    targets = [t.encode().decode("unicode_escape") for t in targets]
    for target in sorted((t for t in targets if t.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True, timeout=30, check=False)


def _remove_cgroups() -> None:
    """The kubelet's cgroups (under /xc-k8s in each hierarchy), leaves first."""
    root = Path("/sys/fs/cgroup")
    for hierarchy in root.iterdir() if root.is_dir() else ():
        top = hierarchy / CGROUP_ROOT.strip("/")
        if not top.is_dir():
            continue
        for folder in sorted(
            (p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        ):
            with suppress(OSError):
                folder.rmdir()
        with suppress(OSError):
            top.rmdir()


def remove_shared() -> None:
    """What a cluster holds outside its folder: its cgroups (under /xc-k8s) and its bridge."""
    _remove_cgroups()
    if Path(f"/sys/class/net/{BRIDGE}").exists():
        command = ["ip", "link", "delete", BRIDGE]
        subprocess.run(command, capture_output=True, timeout=10, check=False)


def _restore_tunables(layout: Layout) -> None:
    saved = layout.base / "sysctl.json"
    if not saved.exists():
        return
    for name, value in json.loads(saved.read_text()).items():
        with suppress(OSError):
            (Path("/proc/sys") / name.replace(".", "/")).write_text(value)


def down(layout: Layout, *, keep_logs: bool = False) -> None:
    """Stop and remove the cluster; with `keep_logs` (after a failed start), its components'
    logs are kept in build/k8s-logs."""
    began = time.monotonic()
    _delete_pods(layout)
    for name in _STOP_ORDER:
        _stop(layout, name)
    _kill_containers(layout)
    _stop(layout, "containerd")
    _unmount(layout)
    remove_shared()
    _restore_tunables(layout)
    if keep_logs and (layout.base / "logs").is_dir():
        kept = layout.base.parent / "k8s-logs"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(layout.base / "logs", kept)
        say(f"the components' logs are in {kept}")
    shutil.rmtree(layout.base, ignore_errors=True)
    say(f"down in {time.monotonic() - began:.1f} s; {layout.base} removed")


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "make k8s-down"))
