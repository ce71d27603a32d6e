"""Build the sample task images of task_images/ with `xc-runner build`.

    python -m scripts.build_images [FOLDER ...]     (default: every folder with a Dockerfile)

The sample images share the SDKs of task_images/sdk/, so their build context is
task_images/ (`xc-runner build --context task_images`), each tagged
xc-tasks/<folder>:latest and labelled with its catalog.json and examples.json. Their
base images, the build arguments PYTHON_BASE and DEBIAN_BASE, come from
build/base-images.env (written by scripts/build-base-images.sh) or the environment,
which wins; `make images` runs this.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from runner.cli.main import main as xc_runner

ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = ROOT / "task_images"
BASE_ENV_FILE = ROOT / "build" / "base-images.env"
BASE_ARGS = ("PYTHON_BASE", "DEBIAN_BASE")
JOBS = 2  # images built at once: the machines that build them have two cores


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
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(__doc__ or "")
        return 0
    bases = [f"--build-arg={key}={value}" for key, value in base_build_args().items()]
    folders = [str(IMAGES_DIR / folder) for folder in argv or task_folders()]
    return xc_runner(["build", "--context", str(IMAGES_DIR), "--jobs", str(JOBS), *bases, *folders])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
