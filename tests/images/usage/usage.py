"""A task image for the runner's usage measurement: each task uses a known amount.

Written against the protocol directly (no SDK). What the task reports of itself is only
its own check; the runner's figures come from the container's cgroup.
"""

import json
import os
import sys
import time

PAGE = 4096


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def burn(seconds):
    """Spend `seconds` of CPU time (this process's, user + system)."""
    begun = time.process_time()
    spins = 0
    while time.process_time() - begun < seconds:
        spins += 1
    return time.process_time() - begun


def touch(mib):
    """Make `mib` MiB resident: every page written."""
    block = bytearray(mib * 1024 * 1024)
    for offset in range(0, len(block), PAGE):
        block[offset] = 1
    return block


def child_hoard():
    """A child process grows past the limit and is killed; this one carries on."""
    pid = os.fork()
    if pid == 0:
        hoard = []
        while True:
            hoard.append(touch(16))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main():
    envelope = json.loads(sys.stdin.readline())
    task, inputs = envelope["task"], envelope["inputs"]
    if task == "burn":
        burnt = burn(float(inputs["seconds"]))
        emit({"type": "result", "outputs": {"burnt": f"{burnt:.3f}"}})
    elif task == "touch":
        block = touch(int(inputs["mib"]))
        emit({"type": "result", "outputs": {"touched": str(len(block) // 1024 // 1024)}})
    elif task == "sleep":
        time.sleep(float(inputs["seconds"]))
        emit({"type": "result", "outputs": {"slept": str(inputs["seconds"])}})
    elif task == "hoard":
        hoard = []
        while True:  # until the kernel kills it at the memory limit
            hoard.append(touch(16))
    elif task == "child_hoard":
        code = child_hoard()
        emit({"type": "result", "outputs": {"child": str(code)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
