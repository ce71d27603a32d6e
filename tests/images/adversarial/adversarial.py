"""A task image whose output is built to be slow to read: each task writes one line that a
reader with a quadratic path would take minutes over, then its result."""

import json
import sys

LINE_BYTES = 1024 * 1024 - 64  # just under the runner's default line limit (1 MiB)


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def deep_quotes(_inputs):
    """A message nested far past any parser's depth, ending in an unclosed string of
    escaped quotes."""
    head = '{"type": "result", "outputs": {"x": ' + "[" * 5000 + '"'
    sys.stdout.write(head + '\\"' * ((LINE_BYTES - len(head)) // 2) + "\n")
    emit({"type": "result", "outputs": {"done": "yes"}})


def digit_run(_inputs):
    """A progress that is a run of digits then a letter (two ways to match each digit
    took time growing with the square of the run)."""
    digits = "1" * (LINE_BYTES - 100) + "x"
    emit({"type": "notify", "status": "InProgress", "progressPercentage": digits})
    emit({"type": "result", "outputs": {"done": "yes"}})


def normal(inputs):
    emit({"type": "result", "outputs": {"text": inputs.get("text", "")}})


def main():
    envelope = json.loads(sys.stdin.readline())
    task = {"deep_quotes": deep_quotes, "digit_run": digit_run, "normal": normal}
    task[envelope["task"]](envelope.get("inputs") or {})


if __name__ == "__main__":
    main()
