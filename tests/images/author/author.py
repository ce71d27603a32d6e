"""A task image for the tests of `xc-runner exec` and `check`: right tasks, and tasks that
break the protocol in one way each. Written against the protocol directly (no SDK).

The image is built several times, each with the catalog and examples of one folder beside
this file (tests/conftest.py build_test_image with a variant).
"""

import json
import sys


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def progress(fraction, text):
    emit(
        {"type": "notify", "status": "InProgress", "message": text, "progressPercentage": fraction}
    )


def add(inputs):
    a, b = int(inputs["a"]), int(inputs["b"])
    progress(0.5, "adding")
    if a < 0 or b < 0:
        emit({"type": "notify", "status": "Error", "message": f"negative input: {min(a, b)}"})
        return
    emit({"type": "result", "outputs": {"sum": a + b}})


def wrong_type(inputs):
    progress(0.5, "adding")
    emit({"type": "result", "outputs": {"sum": "many"}})


def two_terminals(inputs):
    emit({"type": "result", "outputs": {"sum": 3}})
    emit({"type": "notify", "status": "Error", "message": "and an error too"})


def bad_json(inputs):
    progress(0.25, "one")
    progress(0.5, "two")
    # Line 3: a comma is missing before "message" (byte 42 of the line).
    sys.stdout.write('{"type": "notify", "status": "InProgress" "message": "three"}\n')
    emit({"type": "result", "outputs": {"sum": 3}})


TASKS = {"add": add, "wrong_type": wrong_type, "two_terminals": two_terminals, "bad_json": bad_json}


def main():
    envelope = json.loads(sys.stdin.readline())
    print(f"running {envelope['task']}", file=sys.stderr)
    TASKS[envelope["task"]](envelope["inputs"])


if __name__ == "__main__":
    main()
