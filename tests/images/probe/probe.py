"""A task image for the runner's own tests: each task exercises one behaviour.

Written against the protocol directly (no SDK), so the tests check the runner,
not the SDK.
"""

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
    return 0


def writable(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return "yes"
    except OSError:
        return "no"


if __name__ == "__main__":
    sys.exit(main())
