"""Per-image secrets as plain values: where each comes from, what makes a name valid, and what
a container was given (a snapshot, and its version).

A secret is a file on the runner's host; a task of the image that declares it reads it
as `/run/secrets/NAME`. Reading the host files is the engine layer's business
(runner.engine.secrets); nothing here touches a file. A snapshot never shows its
contents in a repr, a log line or an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property

# Where a task finds its secrets: the convention of Docker and Swarm secrets.
SECRETS_MOUNT = "/run/secrets"
# A secret file larger than this is refused: a secret is read again at each hand-out of a
# warm container (to see a rotation), so its size bounds that cost.
MAX_SECRET_BYTES = 1024 * 1024
# Docker's rule for secret names, which are file names here: letters and digits, with
# `-`, `_` or `.` inside, at most 64 characters.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?")


def secret_name_problem(name: str) -> str | None:
    """Why `name` cannot be a secret's file name in /run/secrets, or None."""
    if _NAME.fullmatch(name) and ".." not in name:
        return None
    return (
        f"secret name {name!r} is not a plain file name (1 to 64 letters, digits, '-', '_' "
        "or '.', beginning and ending with a letter or digit)"
    )


@dataclass(frozen=True)
class SecretSource:
    """A secret an image declares: its name in /run/secrets, and the file on the runner's
    host it is read from."""

    name: str
    path: str


@dataclass(frozen=True)
class SecretSnapshot:
    """The secrets of one container, as read when it was created: name -> content. Its
    `version` tells two snapshots apart without keeping or showing their contents."""

    files: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)

    @cached_property
    def version(self) -> str:
        if not self.files:
            return ""
        digest = hashlib.sha256()
        for name, content in self.files:
            digest.update(f"{name}\0{len(content)}\0".encode())
            digest.update(content)
        return digest.hexdigest()

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.files)
        return f"SecretSnapshot({names}; version {self.version[:12]})"


def redactable(content: bytes) -> list[str]:
    """The texts of a secret that must never show in a log line or a status: the whole
    value, and each line of a value of several lines (a key file), stripped."""
    text = content.decode("utf-8", errors="replace").strip()
    lines = [line.strip() for line in text.splitlines()]
    return [text, *(line for line in lines if len(line) >= 8 and line != text)]
