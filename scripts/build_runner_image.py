"""Build the runner's own image, xc-scenario-runner:latest (used by compose.yaml).

    python -m scripts.build_runner_image      (or: make runner-image)

The runtime dependencies are installed on the host with pip --target, as
wheels for the base image's Python version and CPU, into build/runner-site;
the image copies them, so it needs neither pip nor access to PyPI.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from scripts.build_images import base_build_args

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "runner-site"
TAG = "xc-scenario-runner:latest"


def dependencies() -> list[str]:
    """The runtime dependencies, as pyproject.toml lists them (one list to keep)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def base_python_version(base: str) -> str:
    """`3.11`: the Python of the base image, asked of the image itself."""
    out = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "python3",
            base,
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2])",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out.stdout.strip()


def install_site(python_version: str) -> None:
    shutil.rmtree(SITE, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(SITE),
            "--only-binary=:all:",
            "--python-version",
            python_version,
            "--platform",
            f"manylinux2014_{platform.machine()}",
            *dependencies(),
        ],
        check=True,
        timeout=600,
    )


def main() -> int:
    args = base_build_args()
    base = args.get("PYTHON_BASE", "python:3.12-slim")
    install_site(base_python_version(base))
    subprocess.run(
        ["docker", "build", "--quiet", "--build-arg", f"PYTHON_BASE={base}", "-t", TAG, str(ROOT)],
        check=True,
        timeout=600,
    )
    sys.stdout.write(f"built {TAG} on {base}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
