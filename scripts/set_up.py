"""The set-up of `make run` and `make test`: its steps at once where they do not depend on
each other, one line per step as it ends, with its time, and how long each took at the end.

    python3 -m scripts.set_up [--venv TARGET] [--images "IMAGE ..."] [--early] [-- COMMAND ...]

The steps are those of scripts/set_up_plan.py. Each step's output goes to
build/set-up/STEP.log; its last line is shown after its time. A step whose inputs are what
they were when it last succeeded is skipped (the task images, when nothing they are made
from changed). A step that fails stops the others, as Ctrl-C would, and the end of its log
is shown; the exit code is then 1.

COMMAND (the demo, or the runner) runs once the set-up is done, in its place (exec). With
--early, when none of --images is in the engine yet (a first run), it starts instead as
soon as the venv and the engine are ready, while the images are built (the demo's
--await-images serves each one once it is); a failed step then stops it too, and Ctrl-C
stops the set-up's steps and lets COMMAND stop as it does.

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.set_up_plan import ROOT, Step, plan, read, startable

LOG_DIR = ROOT / "build" / "set-up"
EARLY_AFTER = ("venv", "engine")  # what COMMAND needs when it starts early
STOP_WAIT_S = 30.0  # a step that has not stopped this long after Ctrl-C is killed
TAIL_LINES = 25
POLL_S = 0.05


def log_path(name: str) -> Path:
    return LOG_DIR / f"{name.replace(' ', '-')}.log"


def inputs_path(name: str) -> Path:
    return LOG_DIR / f"{name.replace(' ', '-')}.inputs"


def last_line(path: Path) -> str:
    lines = [line.strip() for line in read(path).splitlines() if line.strip()]
    return lines[-1] if lines else ""


def tail(path: Path, count: int = TAIL_LINES) -> list[str]:
    return read(path).splitlines()[-count:]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class Running:
    step: Step
    process: subprocess.Popen[bytes]
    started: float


@dataclass
class SetUp:
    """The steps under way, those done with their times, and COMMAND once it started."""

    pending: list[Step]
    running: list[Running] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)
    command: subprocess.Popen[bytes] | None = None
    started: float = field(default_factory=time.monotonic)
    interrupted: bool = False

    def start_ready(self) -> None:
        for step in startable(self.pending, set(self.times)):
            self.pending.remove(step)
            if _unchanged(step):
                self.times[step.name] = 0.0
                say(f"set-up: {step.name:<12}   0.0 s  up to date: nothing it is made from changed")
                continue
            path = log_path(step.name)
            with path.open("wb") as log:
                process = subprocess.Popen(
                    step.command,
                    cwd=ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    process_group=0,  # Ctrl-C reaches it through this script, not the terminal
                )
            self.running.append(Running(step, process, time.monotonic()))

    def reap(self) -> Running | None:
        """A step that ended, its time noted and its line said; the first failed one is
        returned (the caller stops the rest)."""
        for run in list(self.running):
            code = run.process.poll()
            if code is None:
                continue
            self.running.remove(run)
            took = time.monotonic() - run.started
            if code != 0:
                return run
            self.times[run.step.name] = took
            _note_inputs(run.step)
            note = last_line(log_path(run.step.name))
            say(f"set-up: {run.step.name:<12}{took:6.1f} s" + (f"  {note}" if note else ""))
        return None

    @property
    def done(self) -> bool:
        return not self.pending and not self.running

    def stop(self) -> None:
        """Stop the steps under way as Ctrl-C would; kill those that do not stop in time."""
        for run in self.running:
            _signal_group(run.process, signal.SIGINT)
        deadline = time.monotonic() + STOP_WAIT_S
        for run in self.running:
            try:
                run.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(run.process, signal.SIGKILL)
                run.process.wait()
        if self.running:
            say("set-up: stopped " + ", ".join(run.step.name for run in self.running))
        self.running.clear()
        self.pending.clear()

    def summary(self) -> str:
        each = ", ".join(f"{name} {took:.1f} s" for name, took in self.times.items())
        return f"set-up: done in {time.monotonic() - self.started:.1f} s ({each})"


def _unchanged(step: Step) -> bool:
    """Whether the step's inputs are what they were the last time it succeeded."""
    if step.inputs is None:
        return False
    now = step.inputs()
    return now is not None and read(inputs_path(step.name)) == now


def _note_inputs(step: Step) -> None:
    """After the step succeeded: its inputs, for the next set-up to compare."""
    if step.inputs is not None:
        now = step.inputs()
        path = inputs_path(step.name)
        if now is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(now, encoding="utf-8")


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # ended meanwhile
        os.killpg(process.pid, signum)


def failed(run: Running) -> None:
    took = time.monotonic() - run.started
    path = log_path(run.step.name)
    say(
        f"set-up: {run.step.name} failed after {took:.1f} s (exit code "
        f"{run.process.returncode}); the end of {path.relative_to(ROOT)}:"
    )
    for line in tail(path):
        say(f"    {line}")


def images_absent(images: Sequence[str]) -> bool:
    """Whether none of the images is in the engine (a first run: nothing to be stale)."""
    if not images:
        return False
    for image in images:
        found = subprocess.run(
            ["docker", "image", "inspect", image],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if found.returncode == 0:
            return False
    return True


def run(set_up: SetUp, command: Sequence[str], images: Sequence[str] = ()) -> int:
    """The steps until all are done or one fails; COMMAND early if none of `images` is built
    yet (none given: never early). The exit code."""
    early = bool(command) and bool(images)
    while not set_up.done:
        if set_up.interrupted:
            set_up.stop()
            return _wait(set_up.command, 130)
        set_up.start_ready()
        failure = set_up.reap()
        if failure is not None:
            set_up.stop()
            if set_up.command is not None:
                set_up.command.send_signal(signal.SIGTERM)
                set_up.command.wait()
            failed(failure)
            return 1
        if early and set_up.command is None and all(n in set_up.times for n in EARLY_AFTER):
            early = images_absent(images)
            if early:
                say("set-up: no task image built yet: starting now, each one joins once built")
                set_up.command = subprocess.Popen(command, cwd=ROOT)
        if set_up.command is not None and set_up.command.poll() is not None:
            set_up.stop()  # the demo ended (Ctrl-C, or an error of its own): so does the set-up
            return set_up.command.returncode
        time.sleep(POLL_S)
    say(set_up.summary())
    if set_up.command is not None:
        return _wait(set_up.command, 0)
    if command:
        os.execvp(command[0], list(command))  # noqa: S606 -- the command line make was given
    return 0


def _wait(process: subprocess.Popen[bytes] | None, otherwise: int) -> int:
    """The process's exit code once it ended (its own Ctrl-C handling runs its course)."""
    return otherwise if process is None else process.wait()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="set_up", description=__doc__.split("\n")[0])
    parser.add_argument("--venv", default="venv", help="the make target of the venv step")
    parser.add_argument("--images", default="", help="the task images COMMAND serves")
    parser.add_argument(
        "--early", action="store_true", help="COMMAND may start before the images are built"
    )
    parser.add_argument("command", nargs="*", metavar="COMMAND")
    args = parser.parse_args(argv)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    set_up = SetUp(plan(args.venv, args.images.split()))

    def interrupted(signum: int, frame: object) -> None:
        set_up.interrupted = True
        if signum == signal.SIGTERM and set_up.command is not None:
            set_up.command.send_signal(signal.SIGTERM)  # Ctrl-C reached it already; this not

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    images = args.images.split()
    return run(set_up, args.command, images if args.early else [])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
