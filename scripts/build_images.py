"""Build every task image in task_images/ as xc-tasks/<folder>:latest.

    python -m scripts.build_images [--jobs N] [FOLDER ...]
        (default: every folder with a Dockerfile, one at a time)

With --jobs N, N folders are built at once, in the order given; the first
failure is reported at once and ends the command (builds under way are
abandoned: the engine stops a build whose client is gone).

The build context is task_images/ (so images can share the Python SDK), the
Dockerfile <folder>/Dockerfile, and the build args PYTHON_BASE and DEBIAN_BASE
come from build/base-images.env (written by scripts/build-base-images.sh) or the
environment, which wins. The task catalog goes in the xc-scenario.catalog label:
<folder>/catalog.json when there is one, else what the built image prints when
run with the single argument --catalog. <folder>/examples.json, when there is
one, is checked against that catalog (scripts/task_examples.py) and goes in the
xc-scenario.examples label.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docker
import requests
from docker.errors import BuildError, DockerException

from scripts.task_examples import EXAMPLES_LABEL, ExamplesError, examples_label

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = ROOT / "task_images"
BASE_ENV_FILE = ROOT / "build" / "base-images.env"
BASE_ARGS = ("PYTHON_BASE", "DEBIAN_BASE")
CATALOG_LABEL = "xc-scenario.catalog"  # the label runner.catalog reads
CATALOG_TIMEOUT_S = 60
LOG_TAIL_LINES = 40

log = logging.getLogger("build_images")


class ImageBuildFailed(Exception):
    """A task image could not be built; the message names the folder and why."""


def base_build_args() -> dict[str, str]:
    args: dict[str, str] = {}
    if BASE_ENV_FILE.is_file():
        for line in BASE_ENV_FILE.read_text().splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key in BASE_ARGS and value:
                args[key] = value
    args.update({key: os.environ[key] for key in BASE_ARGS if os.environ.get(key)})
    return args


def task_folders() -> list[str]:
    return sorted(p.parent.name for p in IMAGES_DIR.glob("*/Dockerfile"))


def _build(
    client: Any,
    folder: str,
    tag: str,
    labels: dict[str, str] | None = None,
    images_dir: Path = IMAGES_DIR,
) -> None:
    try:
        client.images.build(
            path=str(images_dir),
            dockerfile=f"{folder}/Dockerfile",
            tag=tag,
            buildargs=base_build_args(),
            labels=labels,
            rm=True,
            forcerm=True,
        )
    except BuildError as exc:
        lines = "".join(
            str(entry.get("stream") or entry.get("error") or "") for entry in exc.build_log
        ).splitlines()
        tail = "\n".join(lines[-LOG_TAIL_LINES:])
        raise ImageBuildFailed(
            f"{folder}: docker build failed: {exc.msg}\n--- last lines of the build log ---\n{tail}"
        ) from None


def _catalog_from_image(client: Any, folder: str, image: str) -> str:
    """What the image prints for `--catalog`, run as a task would be (no network, read-only)."""
    container = client.containers.create(
        image,
        ["--catalog"],
        network_mode="none",
        read_only=True,
        tmpfs={"/tmp": ""},  # noqa: S108 (a mount point in the container, as the runner gives)
        cap_drop=["ALL"],
        labels={"xc-tasks.build": folder},
    )
    try:
        container.start()
        status = container.wait(timeout=CATALOG_TIMEOUT_S)["StatusCode"]
        stdout: str = container.logs(stdout=True, stderr=False).decode("utf-8", errors="replace")
        if status != 0:
            stderr = container.logs(stdout=False, stderr=True).decode("utf-8", errors="replace")
            raise ImageBuildFailed(
                f"{folder}: `--catalog` exited with code {status}:\n{stderr.strip()[-4000:]}"
            )
        return stdout
    finally:
        container.remove(force=True)


def catalog_label(folder: str, text: str) -> str:
    """The catalog minified for the label; ImageBuildFailed unless it is a JSON array."""
    try:
        catalog = json.loads(text)
    except ValueError as exc:
        raise ImageBuildFailed(f"{folder}: the task catalog is not JSON: {exc}") from None
    if not (isinstance(catalog, list) and catalog and all(isinstance(d, dict) for d in catalog)):
        raise ImageBuildFailed(
            f"{folder}: the task catalog must be a non-empty JSON array of task definitions"
        )
    return json.dumps(catalog, ensure_ascii=False, separators=(",", ":"))


def _labels(folder: Path, catalog_text: str) -> dict[str, str]:
    """The catalog label, and the examples label when there is an examples.json."""
    label = catalog_label(folder.name, catalog_text)
    labels = {CATALOG_LABEL: label}
    examples = folder / "examples.json"
    if examples.is_file():
        try:
            labels[EXAMPLES_LABEL] = examples_label(
                examples.read_text(encoding="utf-8"), json.loads(label)
            )
        except ExamplesError as exc:
            raise ImageBuildFailed(f"{folder.name}/examples.json: {exc}") from None
    return labels


def build_image(folder: str, images_dir: Path = IMAGES_DIR) -> str:
    """Build <images_dir>/<folder> (the build context is images_dir) with its labels;
    returns the tag."""
    path = images_dir / folder
    if not (path / "Dockerfile").is_file():
        raise ImageBuildFailed(f"{folder}: no {path}/Dockerfile")
    client = docker.from_env(timeout=300)
    tag = f"xc-tasks/{folder}:latest"
    static_catalog = path / "catalog.json"
    if static_catalog.is_file():
        labels = _labels(path, static_catalog.read_text(encoding="utf-8"))
        _build(client, folder, tag, labels, images_dir)
        return tag
    # Build once to ask the image for its catalog; the labelled build reuses every
    # cached layer, so the draft is removed only after it (the draft is its parent).
    draft = f"xc-tasks/{folder}:catalog-draft-{os.getpid()}"
    try:
        _build(client, folder, draft, images_dir=images_dir)
        labels = _labels(path, _catalog_from_image(client, folder, draft))
        _build(client, folder, tag, labels, images_dir)
    finally:
        try:
            client.images.remove(draft)
        except DockerException as exc:
            log.debug("draft image %s not removed: %s", draft, exc)
    return tag


def _built(folder: str) -> str:
    """Build one folder; a line saying how it went, starting with "built" if it was."""
    started = time.monotonic()
    try:
        tag = build_image(folder)
    except ImageBuildFailed as exc:
        return str(exc)
    except (DockerException, requests.RequestException) as exc:
        return f"{folder}: Docker failed: {exc} (no engine? see scripts/ensure-engine.sh)"
    return f"built {tag} in {time.monotonic() - started:.1f} s"


def build_all(folders: list[str], jobs: int) -> int:
    """Build the folders, `jobs` at a time (each in a thread of its own, which the first
    failure abandons); 0 if all were built."""
    results: queue.Queue[str] = queue.Queue()
    slots = threading.Semaphore(jobs)

    def build(folder: str) -> None:
        with slots:
            log.info("building %s", folder)
            results.put(_built(folder))

    started = time.monotonic()
    for folder in folders:
        threading.Thread(target=build, args=(folder,), name=f"build-{folder}", daemon=True).start()
    for _ in folders:
        said = results.get()
        if not said.startswith("built "):
            log.error("%s", said)
            return 1
        log.info("%s", said)
    log.info("built %d image(s) in %.1f s", len(folders), time.monotonic() - started)
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="build_images: %(message)s")
    parser = argparse.ArgumentParser(prog="build_images", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1, help="folders built at once (default 1)")
    parser.add_argument("folders", nargs="*", metavar="FOLDER")
    args = parser.parse_args(argv)
    folders = args.folders or task_folders()
    if not folders:
        log.error("no task_images/*/Dockerfile found")
        return 1
    if args.jobs < 1:
        log.error("--jobs must be 1 or more, not %d", args.jobs)
        return 2
    log.info("build args: %s", base_build_args() or "(none: the Dockerfiles' defaults)")
    return build_all(folders, args.jobs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
