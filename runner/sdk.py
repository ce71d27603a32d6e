"""The task SDKs the runner ships: task_images/sdk/ of a source checkout, or its copy
packaged inside the wheel (runner/_sdk, pyproject.toml's force-include), one folder per
language, and their version (the file VERSION). `xc-runner new` copies a language's SDK
into the folder it creates. Standard library only.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

FOLDER = "sdk"  # where a task image folder holds its copy
PROTOCOL = 1  # the stdin/stdout protocol the SDKs speak (docs/tasks/protocol.md)
# The SDKs' own tests, run by `make sdk-test`, are not copied.
_NOT_COPIED_SUFFIXES = ("_test.go", ".test.js", ".pyc")
_NOT_COPIED_FOLDERS = ("__pycache__",)


def root() -> Traversable:
    """The folder of the SDKs: packaged in an installed runner, else the checkout's."""
    packaged = resources.files("runner") / "_sdk"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "task_images" / "sdk"


def version() -> str:
    """The SDKs' version, as each SDK's source states it too."""
    return (root() / "VERSION").read_text(encoding="utf-8").strip()


def files(language: str) -> list[tuple[str, str]]:
    """(path relative to the language's SDK folder, text) of each file of its SDK."""
    return sorted(_walk(root() / language))


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in folder.iterdir():
        if entry.is_dir():
            if entry.name not in _NOT_COPIED_FOLDERS:
                found += _walk(entry, f"{prefix}{entry.name}/")
        elif not entry.name.endswith(_NOT_COPIED_SUFFIXES):
            found.append((f"{prefix}{entry.name}", entry.read_text(encoding="utf-8")))
    return found
