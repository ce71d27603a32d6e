"""Build the sample task images of task_images/ with `xc-runner build`.

    python -m scripts.build_images [--jobs N] [FOLDER ...]
        (default: every folder with a Dockerfile, one at a time)

The sample images share the SDKs of task_images/sdk/, so their build context is
task_images/ (`xc-runner build --context task_images`), each tagged
xc-tasks/<folder>:latest and labelled with its catalog.json and examples.json. Their
base images, the build arguments PYTHON_BASE and DEBIAN_BASE, come from
build/base-images.env (written by scripts/build-base-images.sh) or the environment,
which wins; `make images` runs this. With --jobs N, N folders are built at once; a build
that fails is said as soon as it does, and the others go on (exit 1 at the end).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from runner.cli.main import main as xc_runner

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = ROOT / "task_images"
BASE_ENV_FILE = ROOT / "build" / "base-images.env"
BASE_ARGS = ("PYTHON_BASE", "DEBIAN_BASE")


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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="build_images", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", default="1", help="folders built at once (default 1)")
    parser.add_argument("folders", nargs="*", metavar="FOLDER")
    args = parser.parse_args(argv)
    bases = [f"--build-arg={key}={value}" for key, value in base_build_args().items()]
    folders = [str(IMAGES_DIR / folder) for folder in args.folders or task_folders()]
    started = time.monotonic()
    build = ["build", "--context", str(IMAGES_DIR), "--jobs", args.jobs, *bases, *folders]
    code = xc_runner(build)
    if code == 0:
        took = time.monotonic() - started
        sys.stdout.write(f"build_images: built {len(folders)} image(s) in {took:.1f} s\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
