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
from runner.core.building import BuildLog, build_args, declared_args
from runner.core.errors import ConfigError, RunnerError, UsageError
from runner.engine.docker_engine import DockerEngine

DEFAULT_REPOSITORY = "xc-tasks"


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
    local_bases: Mapping[str, str]  # the arguments that name local base images
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
    found = folder_labels(folder, _shown(folder))
    if found.problems:
        raise BuildFailed(found.problems)
    args, local = build_args(declared_args(dockerfile.read_text(encoding="utf-8")), base, given)
    return Plan(
        folder=folder,
        context=root,
        dockerfile=str(inside),
        tag=tag or f"{DEFAULT_REPOSITORY}/{folder.resolve().name}:latest",
        args=args,
        local_bases=local,
        labels=found.labels,
        tasks=found.tasks,
    )


def _shown(folder: Path) -> str:
    """The folder as its problems name it: as given, or its name when given as `.`."""
    text = str(folder)
    return folder.resolve().name if text in (".", "") else text.rstrip("/")


def missing_bases(engine: DockerEngine, plans: Sequence[Plan]) -> list[str]:
    """One line for each local base image the plans need that the engine lacks."""
    lines = []
    for argument, image in sorted({(a, i) for p in plans for a, i in p.local_bases.items()}):
        try:
            engine.image_id(image)
        except ConfigError:
            lines.append(
                f"base image {image} ({argument}) is not in the engine: `make base-images` in "
                "a runner checkout builds it from Debian packages; or build on a registry's "
                f"image: --base registry, or --build-arg {argument}=IMAGE"
            )
    return lines


def build(engine: DockerEngine, plan: Plan) -> Built:
    """Build the plan's image; BuildFailed with the engine's error and the build log's
    last lines when it does not build."""
    start = time.monotonic()
    log = BuildLog()
    events = engine.build(str(plan.context), plan.dockerfile, plan.tag, plan.args, plan.labels)
    for event in events:
        log.take(event)
    if log.error is not None or log.image_id is None:
        error = log.error or "the engine named no image"
        tail = [f"  {line}" for line in log.tail()]
        raise BuildFailed(
            [f"{plan.tag}: the build failed: {error}", "  --- the build's last lines ---", *tail]
        )
    return Built(plan, engine.image_size(plan.tag), time.monotonic() - start)
