"""`--help` for every script under scripts/: the modules that are parts of a command (the
bench's, the swarm's) say which command they belong to instead of doing nothing."""

from __future__ import annotations

import sys


def part_of(doc: str | None, command: str) -> int:
    """What `python -m scripts.MODULE [--help]` answers for a module that is no command:
    its docstring and the command to run; exit 0 for --help, else 2."""
    asked = any(arg in ("-h", "--help") for arg in sys.argv[1:])
    stream = sys.stdout if asked else sys.stderr
    stream.write(f"{(doc or '').strip()}\n\nNot a command of its own: a part of `{command}`.\n")
    return 0 if asked else 2


if __name__ == "__main__":
    sys.exit(part_of(__doc__, "python -m scripts.NAME --help"))
