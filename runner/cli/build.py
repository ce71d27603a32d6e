"""`xc-runner build [DIR ...]`: a task image from each folder, labelled with its catalog
and examples; `--check` then checks them as `xc-runner check` does.

Every folder is checked before anything is built: a missing folder or Dockerfile is a bad
command line (exit 2); mistakes in a catalog.json or examples.json are one line each
(exit 1); a local base image the engine lacks is one line saying how to get it (exit 3).
A build that fails shows the engine's error and the build log's last lines (exit 1).
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from queue import SimpleQueue as Queue

from runner.app.building import BuildFailed, Built, Plan, build, missing_bases, plan
from runner.cli.check import check_images
from runner.cli.output import say
from runner.config.oneshot import oneshot_settings
from runner.core.building import parse_build_args
from runner.core.errors import EXIT_CONFIG, EXIT_OK, UsageError
from runner.engine.docker_engine import DockerEngine

EXIT_FAILED = 1  # an image did not build, or did not pass its check
MAX_JOBS = 16
_WAIT_STEP_S = 0.5


def jobs(text: str) -> int:
    """--jobs: a whole number from 1 to MAX_JOBS."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_JOBS}")
    return int(text)


def build_images(args: argparse.Namespace) -> int:
    folders: list[Path] = args.folders or [Path()]
    if args.tag and len(folders) > 1:
        raise UsageError("--tag names one image: give one folder")
    plans, problems = _plans(folders, args)
    for line in problems:
        say(line, sys.stderr)
    if problems:
        return EXIT_FAILED
    tags = [p.tag for p in plans]
    settings = oneshot_settings("check", tags, args, os.environ) if args.check else None
    engine = DockerEngine()
    try:
        missing = missing_bases(engine, plans)
        for line in missing:
            say(f"xc-runner build: {line}", sys.stderr)
        if missing:
            return EXIT_CONFIG
        built = _build_all(engine, plans, args.jobs, cache=not args.no_cache)
    finally:
        engine.close()
    if len(built) < len(plans):
        return EXIT_FAILED
    return EXIT_OK if settings is None else check_images(settings, tags)


def _plans(folders: Sequence[Path], args: argparse.Namespace) -> tuple[list[Plan], list[str]]:
    try:
        given = parse_build_args(args.build_arg or ())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    plans, problems = [], []
    for folder in folders:
        try:
            plans.append(
                plan(folder, context=args.context, tag=args.tag, base=args.base, given=given)
            )
        except BuildFailed as exc:
            problems += exc.lines
    return plans, problems


def _build_all(
    engine: DockerEngine, plans: Sequence[Plan], workers: int, *, cache: bool
) -> list[Built]:
    """Build every plan, `workers` at a time, saying each as it starts and ends. The builds
    run on daemon threads: Ctrl-C ends the command at once, and the engine stops a build
    whose client has gone."""
    todo: Queue[Plan] = queue.SimpleQueue()
    for each in plans:
        todo.put(each)
    results: Queue[Built | Exception] = queue.SimpleQueue()
    for _ in range(min(workers, len(plans))):
        work = (engine, todo, results, cache)
        threading.Thread(target=_work, args=work, name="build", daemon=True).start()
    built: list[Built] = []
    for _ in plans:
        result = _next(results)
        if isinstance(result, Built):
            built.append(result)
        elif isinstance(result, BuildFailed):
            for line in result.lines:
                say(line, sys.stderr)
        else:
            raise result
    return built


def _work(
    engine: DockerEngine, todo: Queue[Plan], results: Queue[Built | Exception], cache: bool
) -> None:
    """A build thread: it builds the plans it takes until none is left."""
    while True:
        try:
            each = todo.get_nowait()
        except queue.Empty:
            return
        try:
            results.put(_build_one(engine, each, cache))
        except Exception as exc:  # noqa: BLE001 (handed to the command's thread, which says or raises it)
            results.put(exc)


def _next(results: Queue[Built | Exception]) -> Built | Exception:
    """The next result, waiting in short steps so that Ctrl-C is taken at once."""
    while True:
        try:
            return results.get(timeout=_WAIT_STEP_S)
        except queue.Empty:
            continue


def _build_one(engine: DockerEngine, each: Plan, cache: bool) -> Built:
    bases = "".join(f" {name}={value}" for name, value in sorted(each.args.items()))
    say(f"building {each.tag} from {each.folder}{bases and ' with' + bases}")
    done = build(engine, each, cache=cache)
    tasks = f"{len(each.tasks)} task{'' if len(each.tasks) == 1 else 's'}"
    say(
        f"built {each.tag} ({done.size / 1e6:.1f} MB, {done.took_s:.1f} s): "
        f"{tasks}: {', '.join(each.tasks)}"
    )
    return done
