"""`xc-runner new LANGUAGE NAME`: a new task image folder from a template.

File work only, standard library only. The templates are runner/templates/<language>/
(shipped in the wheel): a Dockerfile, the task code on that language's SDK, its unit
test, a catalog.json and an examples.json with one example, a .dockerignore and a
README. Every file's text has ``{{name}}`` replaced by NAME, which is the folder's
name, the image's name (xc-tasks/NAME) and the catalog's namespace. The language's SDK
(runner.sdk) is copied into the folder's sdk/, so the folder is the whole build context
of its image and its unit test needs nothing but the language's own tools.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from runner import sdk
from runner.core.errors import EXIT_OK, UsageError

LANGUAGES = ("go", "node", "python", "sh")
# How each language's template runs its unit tests, in its folder.
TEST_COMMANDS = {
    "go": "go test ./...",
    "node": "node --test",
    "python": "python3 -m pytest",
    "sh": "sh test_tasks.sh",
}
PLACEHOLDER = "{{name}}"
MAX_NAME_LENGTH = 64
# One path component of an image name, as Docker's reference grammar has it.
_IMAGE_NAME_PART = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_SKIPPED = ("__pycache__",)


class ScaffoldError(ValueError):
    """Nothing was created; the message says why."""


def check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ScaffoldError(
            f"unknown language {language!r}: the known languages are {', '.join(LANGUAGES)}"
        )


def check_name(name: str) -> None:
    """NAME must be a plain lowercase image-name part: it names a folder, an image, a namespace."""
    if len(name) > MAX_NAME_LENGTH:
        raise ScaffoldError(f"the name is longer than {MAX_NAME_LENGTH} characters")
    if not _IMAGE_NAME_PART.fullmatch(name):
        raise ScaffoldError(
            f"{name!r} is not a plain image name: use lowercase letters and digits, "
            "separated by single '.' or '_', '__', or dashes (like my-task)"
        )


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name in _SKIPPED or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            found += _walk(entry, f"{prefix}{entry.name}/")
        else:
            found.append((f"{prefix}{entry.name}", entry))
    return found


def template(language: str) -> list[tuple[str, str]]:
    """(relative path, text) of each file of the language's template, name not substituted."""
    check_language(language)
    folder = resources.files("runner") / "templates" / language
    return [(path, entry.read_text(encoding="utf-8")) for path, entry in _walk(folder)]


def scaffold(language: str, name: str, images_dir: Path) -> list[Path]:
    """Create images_dir/NAME from the language's template and its SDK; the files written.

    Refuses (ScaffoldError) an unknown language, a bad name, a missing images_dir,
    and a folder that exists: it never overwrites anything.
    """
    files = template(language)
    check_name(name)
    files = [(path, text.replace(PLACEHOLDER, name)) for path, text in files]
    files += [(f"{sdk.FOLDER}/{path}", text) for path, text in sdk.files(language)]
    if not images_dir.is_dir():
        raise ScaffoldError(f"{images_dir} is not a folder")
    target = images_dir / name
    try:
        target.mkdir()
    except FileExistsError:
        raise ScaffoldError(f"{target} already exists: nothing was changed") from None
    except OSError as exc:  # a read-only or virtual file system: /proc, /sys
        raise ScaffoldError(f"cannot create {target}: {exc.strerror}") from None
    try:
        return _write(target, files)
    except OSError as exc:
        raise ScaffoldError(f"cannot write in {target}: {exc.strerror}") from None


def _write(target: Path, files: list[tuple[str, str]]) -> list[Path]:
    written = []
    for relative, text in files:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
        written.append(path)
    return written


def new(args: argparse.Namespace) -> int:
    """`xc-runner new LANGUAGE NAME`: the folder, and what to do next."""
    try:
        written = scaffold(args.language, args.name, args.dir)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    folder = args.dir / args.name
    sys.stdout.write(
        f"created {folder}/ ({args.language}, SDK {sdk.version()}, protocol {sdk.PROTOCOL}):\n"
    )
    sys.stdout.writelines(f"  {path.relative_to(folder)}\n" for path in written)
    image = f"xc-tasks/{args.name}:latest"
    steps = [
        (f"cd {folder}", ""),
        (TEST_COMMANDS[args.language], "its unit tests, no container"),
        ("xc-runner build .", f"the image {image}, labelled with its catalog"),
        (f"xc-runner check {image}", "runs examples.json in containers"),
        (f"xc-runner exec {image} {args.name}/hello who=you times=2", ""),
    ]
    width = max(len(command) for command, why in steps if why)
    sys.stdout.write("next:\n")
    sys.stdout.writelines(
        f"  {command.ljust(width)}  # {why}\n" if why else f"  {command}\n"
        for command, why in steps
    )
    return EXIT_OK
