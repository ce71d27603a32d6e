"""`xc-runner build`: task images from their folders, through the engine adapter.

Each folder is checked first (its Dockerfile is there, its catalog.json and
examples.json are valid: runner.app.taskfolder), and the base images it needs must be in
the engine; only then is anything built. The catalog and examples go in the image's
labels, as `run` and `check` read them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.app.taskfolder import folder_labels
from runner.config.values import parse_image
from runner.core.building import LOCAL_BASES, BuildLog, base_images, build_args, declared_args
from runner.core.errors import ConfigError, RunnerError, UsageError
from runner.engine.docker_engine import DockerEngine
from runner.files import Unreadable, read_capped

DEFAULT_REPOSITORY = "xc-tasks"
MAX_DOCKERFILE_BYTES = 1024 * 1024  # a Dockerfile is read for its ARGs and FROMs
_MAKE_BASES = "`make base-images` in a runner checkout builds it from Debian packages; or "
_PULL_BASES = "let the build pull a base: --base registry, or --build-arg NAME=IMAGE"


class BuildFailed(RunnerError):
    """A task image did not build: its folder's mistakes, or the engine's error, in lines."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__(lines[0])
        self.lines = list(lines)


@dataclass(frozen=True)
class Plan:
    """One image to build: from which folder, with which context, tag, arguments, labels."""

    folder: Path
    context: Path
    dockerfile: str  # inside the context
    tag: str
    args: Mapping[str, str]
    bases: Sequence[str]  # the base images that must be in the engine: none to pull
    labels: Mapping[str, str]
    tasks: Sequence[str]


@dataclass(frozen=True)
class Built:
    plan: Plan
    size: int  # bytes
    took_s: float


def plan(
    folder: Path, *, context: Path | None, tag: str | None, base: str, given: Mapping[str, str]
) -> Plan:
    """What building `folder` takes; UsageError for a folder or Dockerfile that is not
    there, BuildFailed for mistakes in its catalog.json or examples.json."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    dockerfile = folder / "Dockerfile"
    if not dockerfile.is_file():
        raise UsageError(f"{folder}: no Dockerfile in it")
    root = folder if context is None else context
    try:
        inside = dockerfile.resolve().relative_to(root.resolve())
    except ValueError:
        raise UsageError(f"{folder}: not inside the build context {root}") from None
    image = _tag(folder, tag)
    try:
        text = read_capped(dockerfile, MAX_DOCKERFILE_BYTES).decode("utf-8")
    except (Unreadable, UnicodeDecodeError) as exc:
        raise UsageError(f"{folder}: cannot read its Dockerfile: {exc}") from None
    found = folder_labels(folder, _shown(folder))
    if found.problems:
        raise BuildFailed(found.problems)
    args = build_args(declared_args(text), base, given)
    return Plan(
        folder=folder,
        context=root,
        dockerfile=str(inside),
        tag=image,
        args=args,
        bases=base_images(text, args) if base == "local" else (),
        labels=found.labels,
        tasks=found.tasks,
    )


def _tag(folder: Path, tag: str | None) -> str:
    """--tag, else xc-tasks/FOLDER:latest; UsageError unless an image reference."""
    image = tag or f"{DEFAULT_REPOSITORY}/{folder.resolve().name}:latest"
    try:
        return parse_image(image)
    except ValueError as exc:
        if tag:
            raise UsageError(f"--tag: {exc}") from None
        named = f"{folder}: the image is named after its folder, and {exc}: give --tag"
        raise UsageError(named) from None


def _shown(folder: Path) -> str:
    """The folder as its problems name it: as given, or its name when given as `.`."""
    text = str(folder)
    return folder.resolve().name if text in (".", "") else text.rstrip("/")


def missing_bases(engine: DockerEngine, plans: Sequence[Plan]) -> list[str]:
    """One line for each base image the plans need that the engine lacks."""
    lines = []
    for image in sorted({image for p in plans for image in p.bases}):
        try:
            engine.image_id(image)
        except ConfigError:
            how = _MAKE_BASES if image in LOCAL_BASES.values() else ""
            lines.append(f"base image {image} is not in the engine: {how}{_PULL_BASES}")
    return lines


def build(engine: DockerEngine, plan: Plan, *, cache: bool = True) -> Built:
    """Build the plan's image; BuildFailed with the engine's error and the build log's
    last lines when it does not build."""
    start = time.monotonic()
    log = BuildLog()
    context, dockerfile = str(plan.context), plan.dockerfile
    events = engine.build(context, dockerfile, plan.tag, plan.args, plan.labels, cache)
    for event in events:
        log.take(event)
    if log.error is not None or log.image_id is None:
        error = log.error or "the engine named no image"
        tail = [f"  {line}" for line in log.tail()]
        raise BuildFailed(
            [f"{plan.tag}: the build failed: {error}", "  --- the build's last lines ---", *tail]
        )
    return Built(plan, engine.image_size(plan.tag), time.monotonic() - start)
