"""`make bench-first-run`: the first `make run` of a newcomer, on a bare machine in a container.

    python -m scripts.bench_first_run [--ref REF] [--keep]

The bare machine is a container of the local Debian base with python3, python3-venv,
make and git and nothing else (no engine, no image, nothing built), with an engine's
rights (as scripts/dind's nodes: every capability but SYS_RESOURCE, every device,
/var/lib/docker a volume of its own). In it, a fresh clone of REF (default HEAD) runs
`make run`, as tests/integration/test_make_run.py does, until every task the demo
submitted has ended; then Ctrl-C, and a second `make run` on the same machine. Printed:
when the first outcome, the five sample outcomes and all of them arrived, the set-up's
own step times, and the machine's load average before and after.

What it includes and what it does not: the Debian packages (docker.io, debootstrap, the
task images' apt-get) come from Debian's mirror, as on a bare machine. PyPI cannot be
reached over https from a container here, so the Python packages come from a wheelhouse
downloaded on the host first (build/wheelhouse, PIP_NO_INDEX): the figure excludes
their download from PyPI, and includes everything else the first `make run` does.
Everything it makes is labelled and removed at the end (--keep keeps the container).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runner.cli.demo import SUBMISSIONS  # noqa: E402 (after the path is set)
from scripts.build_images import base_build_args  # noqa: E402
from scripts.swarm_nodes import DIND_RUN_ARGS as ENGINE_RIGHTS  # noqa: E402 (an engine inside)

BARE_IMAGE = "xc-test/first-run-bare:latest"
LABEL = "xc-test.first-run"
WHEELHOUSE = ROOT / "build" / "wheelhouse"
BUNDLE = ROOT / "build" / "first-run.bundle"
CHECKOUT = "/root/xc-scenario-runner"
BARE_DOCKERFILE = """\
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3 python3-venv make git ca-certificates procps \\
 && rm -rf /var/lib/apt/lists/*
"""
# The cgroup mounts of a container are read-only; a machine's are not.
WRITABLE_CGROUPS = (
    "for m in $(awk '$3 == \"cgroup\" { print $2 }' /proc/self/mounts); do "
    "mount -o remount,bind,rw $m; done"
)
OUTCOME = re.compile(r"^\S+ (\S+)/(\S+) \S+ (Completed|Error)\s")
SAMPLE_TASKS = 5  # the sample image's five tasks in the demo
RUN_TIMEOUT_S = 900


@dataclass
class Run:
    """One `make run`, timed from its start: its output and when the outcomes came."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    outcomes: list[tuple[float, str]] = field(default_factory=list)

    def sample_done_s(self) -> float | None:
        sample = [t for t, name in self.outcomes if name.startswith("sample/")]
        return sample[SAMPLE_TASKS - 1] if len(sample) >= SAMPLE_TASKS else None


def docker(*args: str, timeout_s: float = 600, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if check and done.returncode != 0:
        sys.exit(f"bench-first-run: docker {' '.join(args[:3])}: {done.stderr.strip()}")
    return done.stdout


def say(text: str, end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def prepare(ref: str) -> str:
    """The bare machine's image, the wheelhouse and the clone's source, all on the host;
    returns the commit the clone checks out."""
    base = base_build_args().get("DEBIAN_BASE", "debian:bookworm-slim")
    if not docker("images", "-q", BARE_IMAGE):
        say(f"building {BARE_IMAGE} from {base}")
        subprocess.run(
            ["docker", "build", "-q", "--build-arg", f"DEBIAN_BASE={base}", "--label",
             f"{LABEL}=1", "-t", BARE_IMAGE, "-"],
            input=BARE_DOCKERFILE, text=True, check=True, timeout=900, capture_output=True,
        )  # fmt: skip
    # The wheels the bare machine's Python takes, which may be older than the host's.
    version = docker(
        "run", "--rm", BARE_IMAGE, "python3", "-c", "import sys; print(sys.version.split()[0])"
    ).strip()
    say(f"downloading the wheelhouse for Python {version} (PyPI, on the host)")
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    download = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(WHEELHOUSE),
         "--python-version", version, "--only-binary=:all:",
         "pip", "hatchling", "editables", f"{ROOT}[dev]"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if download.returncode != 0:
        sys.exit(f"bench-first-run: pip download failed:\n{download.stdout}{download.stderr}")
    subprocess.run(["git", "-C", str(ROOT), "bundle", "create", str(BUNDLE), ref],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", ref],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip


@contextmanager
def bare_machine(commit: str, keep: bool) -> Iterator[str]:
    name = f"xc-test-first-run-{os.getpid()}"
    docker(
        "run", "-d", "--name", name, "--label", f"{LABEL}=1", *ENGINE_RIGHTS,
        "--volume", f"{WHEELHOUSE}:/wheelhouse:ro", "--volume", f"{BUNDLE}:/source.bundle:ro",
        "--env", "PIP_NO_INDEX=1", "--env", "PIP_FIND_LINKS=/wheelhouse",
        BARE_IMAGE, "sleep", "infinity",
    )  # fmt: skip
    try:
        docker("exec", name, "sh", "-c", WRITABLE_CGROUPS)
        docker("exec", name, "git", "clone", "-q", "--no-checkout", "/source.bundle", CHECKOUT)
        docker("exec", "-w", CHECKOUT, name, "git", "checkout", "-q", commit)
        yield name
    finally:
        if keep:
            say(f"kept: docker rm -f -v {name}")
        else:
            docker("rm", "-f", "-v", name, check=False)


def make_run(machine: str) -> Run:
    """`make run` in the machine until every task of the demo ended, then Ctrl-C."""
    script = f"cd {CHECKOUT} && echo $$ > /tmp/make.pgid && exec make run"
    run = Run()
    start = time.monotonic()
    make = subprocess.Popen(
        ["docker", "exec", machine, "setsid", "--wait", "sh", "-c", script],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
    )  # fmt: skip
    if make.stdout is None:
        raise RuntimeError("no pipe from make")
    try:
        for line in make.stdout:
            now = time.monotonic() - start
            run.lines.append((now, line.rstrip("\n")))
            say(f"{now:7.1f} {line}", end="")
            if (found := OUTCOME.match(line)) is not None:
                run.outcomes.append((now, f"{found[1]}/{found[2]}"))
            if len(run.outcomes) >= len(SUBMISSIONS):
                break
            if now > RUN_TIMEOUT_S:
                sys.exit(f"bench-first-run: no end after {RUN_TIMEOUT_S} s")
    finally:
        docker("exec", machine, "sh", "-c", "kill -INT -$(cat /tmp/make.pgid)", check=False)
        make.communicate(timeout=120)
    if len(run.outcomes) < len(SUBMISSIONS):
        sys.exit(f"bench-first-run: make run ended (exit code {make.returncode}) too early")
    return run


def summary(title: str, run: Run) -> list[str]:
    first = f"{run.outcomes[0][0]:.1f} s" if run.outcomes else "none"
    sample = run.sample_done_s()
    every = f"{run.outcomes[-1][0]:.1f} s" if run.outcomes else "none"
    lines = [
        f"{title}: first outcome {first}, the five sample outcomes "
        f"{f'{sample:.1f} s' if sample is not None else 'not all'}, "
        f"all {len(run.outcomes)} outcomes {every}"
    ]
    lines += [f"    {at:6.1f} {text}" for at, text in run.lines if text.startswith("set-up:")]
    return lines


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench_first_run", description=__doc__.split("\n")[0])
    parser.add_argument("--ref", default="HEAD", help="what the clone checks out (default HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the container at the end")
    args = parser.parse_args(argv)
    commit = prepare(args.ref)
    report = [f"{args.ref} ({commit[:12]}); load average before: {load()}"]
    with bare_machine(commit, args.keep) as machine:
        report += summary("first make run", make_run(machine))
        report += summary("second make run", make_run(machine))
    report.append(f"load average after: {load()}")
    say("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
