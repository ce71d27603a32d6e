"""How long a new task image takes, in each language: from `xc-runner new` to the first
`xc-runner exec`, the first build, a rebuild with nothing changed, and one after an edit
of the task code; with --no-cache, the first build again with no layer cached.

    python -m scripts.bench_new_image [--no-cache] [LANGUAGE ...]

Each command is run as a user runs it (`python -m runner ...`) in a temporary folder,
on the engine's local base images (`make base-images`); the images are removed at the
end. Prints one row per language, with the machine's load average: the figures of
docs/tasks/first-image.md come from it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from runner.cli.scaffold import LANGUAGES

CODE = {"go": "main.go", "node": "main.js", "python": "tasks.py", "sh": "tasks.sh"}
COMMENT = {"go": "//", "node": "//", "python": "#", "sh": "#"}


def xc(*argv: str, cwd: Path) -> float:
    """Run `xc-runner ARGV` in `cwd`; its wall time in seconds (it must succeed)."""
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "runner", *argv], cwd=cwd, check=True, capture_output=True
    )
    return time.monotonic() - start


def measure(language: str, work: Path, *, no_cache: bool) -> list[float]:
    name = f"xc-bench-{uuid.uuid4().hex[:8]}-{language}"
    image = f"xc-tasks/{name}:latest"
    folder = work / name
    try:
        new = xc("new", language, name, cwd=work)
        first = xc("build", name, cwd=work)
        run = xc("exec", image, f"{name}/hello", "who=you", cwd=work)
        again = xc("build", name, cwd=work)
        with (folder / CODE[language]).open("a") as code:
            code.write(f"\n{COMMENT[language]} edited\n")
        edited = xc("build", name, cwd=work)
        cold = [xc("build", "--no-cache", name, cwd=work)] if no_cache else []
        return [new + first + run, first, again, edited, *cold]
    finally:
        subprocess.run(["docker", "rmi", "-f", image], capture_output=True, check=False)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("languages", nargs="*", help=f"some of {', '.join(LANGUAGES)}")
    parser.add_argument("--no-cache", action="store_true", help="also a build with no cache")
    args = parser.parse_args(argv)
    unknown = set(args.languages) - set(LANGUAGES)
    if unknown:
        parser.error(f"unknown languages {sorted(unknown)}: the known ones are {LANGUAGES}")
    heads = ["new to exec", "first build", "rebuild", "after an edit"]
    heads += ["no cache"] if args.no_cache else []
    say(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    say(f"{'language':10}" + "".join(f"{head:>15}" for head in heads))
    with tempfile.TemporaryDirectory(prefix="xc-bench-new-") as work:
        for language in args.languages or LANGUAGES:
            figures = measure(language, Path(work), no_cache=args.no_cache)
            say(f"{language:10}" + "".join(f"{f:>13.1f} s" for f in figures))
    say(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
