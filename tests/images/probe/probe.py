"""A task image for the runner's own tests: each task exercises one behaviour.

Written against the protocol directly (no SDK), so the tests check the runner,
not the SDK.
"""

import ctypes
import errno
import json
import os
import sys
import time


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def result(**outputs):
    emit({"type": "result", "outputs": {k: str(v) for k, v in outputs.items()}})


def main():
    task = os.environ.get("PROBE_TASK_OVERRIDE")
    if task == "no_stdin":
        result(read="nothing")
        return 0
    envelope = json.loads(sys.stdin.readline())
    task = envelope["task"]
    inputs = envelope["inputs"]
    if task == "echo":
        emit({"type": "result", "outputs": inputs})
    elif task == "big_input":
        result(size=len(inputs["data"]))
    elif task == "flood":
        line = "x" * 1023 + "\n"
        for _ in range(int(inputs["kib"])):
            sys.stdout.write(line)
        sys.stdout.flush()
        result(done="yes")
    elif task == "whoami":
        result(
            uid=os.getuid(),
            gid=os.getgid(),
            root_writable=writable("/probe-file"),
            tmp_writable=writable("/tmp/probe-file"),
            env=",".join(sorted(os.environ)),
        )
    elif task == "crash":
        sys.stderr.write("about to fail\nfatal: probe crashed on purpose\n")
        return 3
    elif task == "linger":
        result(done="yes")
        time.sleep(600)
    elif task == "sleep":
        time.sleep(float(inputs["seconds"]))
        result(done="yes")
    return more_tasks(task, inputs)


def more_tasks(task, inputs):
    """The tasks that check what the runtime (runc or gVisor) gives a task."""
    if task == "kernel":
        result(release=os.uname().release, log=kernel_log_head())
    elif task == "allocate":
        hoard = [b"\xa5" * (1024 * 1024) for _ in range(int(inputs["mib"]))]  # resident
        result(allocated=len(hoard))
    elif task == "spawn":
        result(spawned=spawn(int(inputs["processes"])))
    return 0


def spawn(count):
    """Start `count` child processes that live at once; how many could be started."""
    children = []
    for _ in range(count):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            time.sleep(2)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return len(children)


def kernel_log_head():
    """The kernel log's first line (syslog(2)), or why it cannot be read.

    Under runc the default seccomp profile refuses it; gVisor answers with its
    own boot log, which starts "Starting gVisor...".
    """
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(4096)
    size = libc.klogctl(3, buf, len(buf))  # SYSLOG_ACTION_READ_ALL
    if size < 0:
        return "unreadable: " + errno.errorcode.get(ctypes.get_errno(), "?")
    lines = buf.raw[:size].decode(errors="replace").splitlines()
    return lines[0] if lines else ""


def writable(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "yes"
    except OSError:
        return "no"


if __name__ == "__main__":
    sys.exit(main())
