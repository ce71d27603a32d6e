"""Files named by whoever runs the runner or the local server, read with care: the
configuration file, API key files, secrets, `--input-json`, and the databases' paths.

A path may name anything: a FIFO (opening one to read waits for a writer, forever),
`/dev/zero` or `/dev/urandom` (endless: `--config /dev/zero` grew to 658 MB in 8 s), a
folder, a file of gigabytes. So a file is opened without waiting (`O_NONBLOCK`: a FIFO
opens at once), checked to be a regular file on the descriptor it is then read from (no
race with a file swapped in between), and read up to a cap, past which it is refused.
Each refusal is a short reason; the caller names the file and what it is for.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Unreadable(OSError):
    """The file cannot be read as asked: says why, without its contents."""


def read_capped(path: str | Path, max_bytes: int) -> bytes:
    """The contents of the regular file at `path` (links followed), at most `max_bytes`;
    Unreadable otherwise, at once, whatever `path` names."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        refused = Unreadable(exc.strerror or type(exc).__name__)
        refused.errno = exc.errno  # FileNotFoundError's: ENOENT
        raise refused from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"not a regular file ({kind(info.st_mode)})")
        if info.st_size > max_bytes:
            raise Unreadable(f"larger than the limit of {size_text(max_bytes)}")
        with os.fdopen(handle, "rb", closefd=False) as reader:
            content = reader.read(max_bytes + 1)
    except Unreadable:
        raise
    except OSError as exc:
        raise Unreadable(exc.strerror or type(exc).__name__) from None
    finally:
        os.close(handle)
    if len(content) > max_bytes:  # it grew while it was read
        raise Unreadable(f"larger than the limit of {size_text(max_bytes)}")
    return content


def not_regular(path: str | Path) -> str | None:
    """Why what exists at `path` is not a regular file (links followed), or None when it
    is one or nothing is there: for a file another library opens (a database)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None if stat.S_ISREG(mode) else f"not a regular file ({kind(mode)})"


def kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a plain file")


def size_text(size: int) -> str:
    """`1 MiB`, `64 KiB`, `100 bytes`."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
