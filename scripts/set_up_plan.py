"""The steps of the set-up (scripts/set_up.py): make targets, each of which also works alone
(`make engine`); `-o` keeps make from running again what another step does.

    venv          make venv (--venv venv-dev: with the development extras)   at once
    base tools    make base-tools (mmdebstrap, when missing)                 at once
    engine        make engine                                      after base tools
    base images   make -o engine base-images                       after base tools
    task images   make -o venv -o base-images images               after venv, base images

`base tools` goes first so that its apt-get does not wait behind the engine's, longer one:
the base images are the longer way. `base images` waits for the engine itself, only where
it needs it (scripts/build-base-images.sh). `task images` is skipped when nothing it is
made from changed since it last succeeded: the files of task_images/, the base images'
IDs, and the task images' IDs (none removed or rebuilt since; `make images` always builds).

Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAKE = ("make", "--no-print-directory", "-s")


@dataclass(frozen=True)
class Step:
    name: str
    command: tuple[str, ...]
    after: tuple[str, ...] = ()
    # What the step's result depends on, or None if unknown: when it is what it was the
    # last time the step succeeded, the step is skipped.
    inputs: Callable[[], str | None] | None = None


def images_inputs(images: Sequence[str]) -> Callable[[], str | None]:
    """The task images' inputs: the files of task_images/, the base images' IDs and the
    task images' own; None when an image is missing."""

    def inputs() -> str | None:
        digest = hashlib.sha256()
        for path in sorted((ROOT / "task_images").rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(ROOT)}\0".encode() + path.read_bytes())
        env = ROOT / "build" / "base-images.env"
        bases = [line.partition("=")[2] for line in read(env).splitlines()]
        bases += [os.environ[k] for k in ("PYTHON_BASE", "DEBIAN_BASE") if os.environ.get(k)]
        found = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", *bases, *images],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if not images or found.returncode != 0:
            return None
        return f"{digest.hexdigest()} {' '.join(found.stdout.split())}"

    return inputs


def plan(venv_target: str, images: Sequence[str] = ()) -> list[Step]:
    """The set-up's steps, in the order they start when they may."""
    return [
        Step("venv", (*MAKE, venv_target)),
        Step("base tools", (*MAKE, "base-tools")),
        Step("engine", (*MAKE, "engine"), after=("base tools",)),
        Step("base images", (*MAKE, "-o", "engine", "base-images"), after=("base tools",)),
        Step(
            "task images",
            (*MAKE, "-o", "venv", "-o", "base-images", "images"),
            after=("venv", "base images"),
            inputs=images_inputs(images),
        ),
    ]


def startable(steps: Sequence[Step], done: set[str]) -> list[Step]:
    """The steps whose predecessors are all done."""
    return [step for step in steps if all(name in done for name in step.after)]


def read(path: Path) -> str:
    """The file's text, or "" if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


if __name__ == "__main__":
    from scripts.scripthelp import part_of

    sys.exit(part_of(__doc__, "python3 -m scripts.set_up"))
