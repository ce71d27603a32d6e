"""Build the runner's own image, xc-scenario-runner:latest (used by compose.yaml).

    python -m scripts.build_runner_image      (or: make runner-image)

The runtime dependencies are installed on the host with pip --target, as
wheels for the base image's Python version and CPU, into build/runner-site;
the image copies them, so it needs neither pip nor access to PyPI.

The base is build/base-images.env's PYTHON_BASE (or the environment's), else the
Dockerfile's own default (pinned by digest). The image's OCI labels get the
package's version, the commit (with `-dirty` when the work tree has changes) and
the source: the git remote `origin`, else this checkout as a file:// URL.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from scripts.build_images import base_build_args

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "runner-site"
TAG = "xc-scenario-runner:latest"


def dockerfile_base() -> str:
    """The Dockerfile's default PYTHON_BASE (one place to pin it)."""
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^ARG PYTHON_BASE=(\S+)$", text, re.MULTILINE)
    if match is None:
        raise SystemExit("the Dockerfile has no ARG PYTHON_BASE=... line")
    return match.group(1)


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def labels() -> dict[str, str]:
    """The build arguments of the image's OCI labels: VERSION, REVISION and SOURCE."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        version = str(tomllib.load(file)["project"]["version"])
    revision = _git("rev-parse", "HEAD") or "unknown"
    if revision != "unknown" and _git("status", "--porcelain", "--untracked-files=no"):
        revision += "-dirty"
    source = _git("remote", "get-url", "origin")
    if source.startswith("git@"):  # git@host:owner/name.git -> https://host/owner/name
        host, _, path = source.removeprefix("git@").partition(":")
        source = f"https://{host}/{path}"
    source = source.removesuffix(".git") or ROOT.as_uri()
    return {"VERSION": version, "REVISION": revision, "SOURCE": source}


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


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m scripts.build_runner_image",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args(argv)
    base = base_build_args().get("PYTHON_BASE") or dockerfile_base()
    install_site(base_python_version(base))
    build_args = [f"--build-arg={k}={v}" for k, v in {"PYTHON_BASE": base, **labels()}.items()]
    subprocess.run(
        ["docker", "build", "--quiet", *build_args, "-t", TAG, str(ROOT)],
        check=True,
        timeout=600,
    )
    sys.stdout.write(f"built {TAG} on {base}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
