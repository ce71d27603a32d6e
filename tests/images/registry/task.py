"""A task image for the registry and secrets tests, against the protocol directly.

- build: which build of the image runs (its TASK_BUILD), after sleeping `seconds`;
- look: the task's environment and the files in /run/secrets, each as the SHA-256 of its
  content (a status must never carry a secret); it also prints each secret on stderr,
  which the runner logs, and with fail=yes exits without a result, so that its Error
  quotes that stderr: neither may show a secret.
"""

import hashlib
import json
import os
import sys
import time

SECRETS = "/run/secrets"


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def secrets():
    if not os.path.isdir(SECRETS):
        return {}
    found = {}
    for name in sorted(os.listdir(SECRETS)):
        with open(os.path.join(SECRETS, name), "rb") as handle:
            content = handle.read()
        sys.stderr.write(f"secret {name} holds {content.decode(errors='replace')}\n")
        found[name] = hashlib.sha256(content).hexdigest()
    return found


def main():
    envelope = json.loads(sys.stdin.readline())
    task, inputs = envelope["task"], envelope["inputs"]
    if task == "build":
        time.sleep(float(inputs["seconds"]))
        emit({"type": "result", "outputs": {"build": os.environ.get("TASK_BUILD", "?")}})
    elif task == "look":
        found = secrets()
        if inputs["fail"] == "yes":
            return 3
        env = {k: v for k, v in os.environ.items() if k not in ("HOSTNAME", "PATH", "HOME")}
        emit({"type": "result", "outputs": {"env": env, "secrets": found, "uid": str(os.getuid())}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
