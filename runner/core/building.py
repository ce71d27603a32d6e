"""What `xc-runner build` decides before it asks the engine: the build arguments of a
task image's Dockerfile, the base images it needs, and what a build's events said.

Pure: text in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The base images' build arguments of the task images' Dockerfiles, and the images the
# engine builds from Debian packages where no registry answers (`make base-images`).
LOCAL_BASES = {"PYTHON_BASE": "xc-base/python:bookworm", "DEBIAN_BASE": "xc-base/debian:bookworm"}
BASES = ("local", "registry")
LOG_TAIL_LINES = 40
_ARG_USE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?\s*$", re.IGNORECASE)


def declared_args(dockerfile: str) -> dict[str, str | None]:
    """The build arguments a Dockerfile declares (`ARG NAME[=DEFAULT]`), with their
    defaults; a line continued with a backslash is not an ARG line of its own."""
    declared: dict[str, str | None] = {}
    continued = False
    for line in dockerfile.splitlines():
        found = None if continued else _ARG.match(line)
        if found:
            declared.setdefault(found[1], found[2])
        continued = line.rstrip().endswith("\\")
    return declared


def build_args(
    declared: Mapping[str, str | None], base: str, given: Mapping[str, str]
) -> dict[str, str]:
    """The build arguments to pass: `given` (--build-arg) wins; with the `local` base,
    each base argument the Dockerfile declares gets the engine's local image
    (LOCAL_BASES); with `registry`, the Dockerfile's own default."""
    args = {name: value for name, value in given.items() if name in declared}
    if base == "local":
        for name, image in LOCAL_BASES.items():
            if name in declared:
                args.setdefault(name, image)
    return args


def base_images(dockerfile: str, args: Mapping[str, str]) -> list[str]:
    """The images the Dockerfile's stages start FROM, its build arguments substituted;
    neither `scratch` nor an earlier stage."""
    values = {k: v for k, v in declared_args(dockerfile).items() if v is not None}
    values.update(args)
    stages: set[str] = set()
    images: list[str] = []
    continued = False
    for line in dockerfile.splitlines():
        words = [] if continued else [w for w in line.split() if not w.startswith("--")]
        continued = line.rstrip().endswith("\\")
        if len(words) < 2 or words[0].upper() != "FROM":
            continue
        image = _ARG_USE.sub(lambda m: values.get(m[1] or m[2], ""), words[1])
        if image.lower() != "scratch" and image not in stages and image not in images:
            images.append(image)
        if len(words) >= 4 and words[2].upper() == "AS":
            stages.add(words[3])
    return images


def parse_build_args(pairs: Iterable[str]) -> dict[str, str]:
    """NAME=VALUE pairs of --build-arg; ValueError naming one that is not."""
    found: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"--build-arg {pair!r} is not NAME=VALUE")
        found[name] = value
    return found


@dataclass
class BuildLog:
    """What the engine said while building: its output lines, its error, the image built."""

    lines: list[str] = field(default_factory=list)
    error: str | None = None
    image_id: str | None = None

    def take(self, event: Mapping[str, Any]) -> None:
        if isinstance(event.get("stream"), str):
            self.lines += event["stream"].splitlines()
        if event.get("error") is not None:
            self.error = str(event["error"]).strip()
        aux = event.get("aux")
        if isinstance(aux, Mapping) and isinstance(aux.get("ID"), str):
            self.image_id = aux["ID"]

    def tail(self) -> list[str]:
        lines = [line for line in self.lines if line.strip()]
        return lines[-LOG_TAIL_LINES:]
