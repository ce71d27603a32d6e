"""A task image that writes untrusted text: for the runner's tests of what it posts and prints.

- emit: writes its input `line` to stdout as it is, then a result
  {"text": "after"}: whatever the line is, the task ends in one terminal status
  (the line's own, if it is a message, else that result).
- deep: writes a message nested exactly `depth` levels deep (its own object is
  level 1; arrays and objects in turn), with its type last, of `kind` result,
  notify or log (no type), then the same result as emit.
- scribble: writes terminal control sequences in a progress message and on stderr,
  then exits with code 3 without a result.
- markup: text that a web page would take for HTML: a progress message
  `<img src=x onerror=alert(1)>`, then a result with that text as its message
  and its output `text` (`end` result), or an Error with that message (`end` error).

Written against the protocol directly (no SDK), so the tests check the runner.
"""

import json
import sys

MARKUP = "<img src=x onerror=alert(1)>"
CONTROLS = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x9b31m\rover\bwrite\x7f\u202eevil"


def write(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def after():
    write(json.dumps({"type": "result", "outputs": {"text": "after"}}))


def nested(depth, kind):
    inner = depth - 2
    opens = "".join("[" if level % 2 == 0 else '{"k":' for level in range(inner))
    closes = "".join("]" if level % 2 == 0 else "}" for level in reversed(range(inner)))
    head = {
        "result": '{"outputs":{"data":',
        "notify": '{"status":"InProgress","message":"deep","x":{"y":',
        "log": '{"log":{"y":',
    }[kind]
    tail = "}}" if kind == "log" else f'}},"type":"{kind}"}}'
    return head + opens + "0" + closes + tail


def main():
    envelope = json.loads(sys.stdin.readline())
    task, inputs = envelope["task"], envelope["inputs"]
    if task == "emit":
        write(inputs["line"])
        after()
    elif task == "deep":
        write(nested(int(inputs["depth"]), inputs["kind"]))
        after()
    elif task == "scribble":
        write(json.dumps({"type": "notify", "status": "InProgress", "message": CONTROLS}))
        sys.stderr.write("about to fail " + CONTROLS + "\n")
        sys.stderr.flush()
        sys.exit(3)
    elif task == "markup":
        markup(inputs["end"])


def markup(end):
    write(json.dumps({"type": "notify", "status": "InProgress", "message": MARKUP,
                      "progressPercentage": 0.5}))
    if end == "error":
        write(json.dumps({"type": "notify", "status": "Error", "message": MARKUP}))
    else:
        write(json.dumps({"type": "result", "outputs": {"text": MARKUP}, "message": MARKUP}))


if __name__ == "__main__":
    main()
