"""The set-up's steps (scripts/set_up.py): at once where they may, one line each as they end,
a failure stopping the rest, and the command started early on a first run. The steps are
real processes (sh), the plan a small one of the tests'."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from scripts import set_up, set_up_plan
from scripts.set_up import SetUp, Step


@pytest.fixture(autouse=True)
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(set_up, "LOG_DIR", tmp_path)
    monkeypatch.setattr(set_up, "ROOT", tmp_path)
    return tmp_path


def sh(name: str, script: str, after: tuple[str, ...] = ()) -> Step:
    return Step(name, ("sh", "-c", script), after)


def test_a_step_starts_once_every_step_it_comes_after_is_done() -> None:
    steps = [sh("a", ""), sh("b", "", after=("a",)), sh("c", "", after=("a", "b"))]
    assert [s.name for s in set_up_plan.startable(steps, set())] == ["a"]
    assert [s.name for s in set_up_plan.startable(steps, {"a"})] == ["a", "b"]
    assert [s.name for s in set_up_plan.startable(steps, {"a", "b"})] == ["a", "b", "c"]


def test_the_make_run_plan_starts_what_does_not_depend_on_the_rest_at_once() -> None:
    steps = set_up_plan.plan("venv")
    assert [s.name for s in set_up_plan.startable(steps, set())] == ["venv", "base tools"]
    after = {s.name: set(s.after) for s in steps}
    assert after["engine"] == after["base images"] == {"base tools"}
    assert after["task images"] == {"venv", "base images"}
    assert set_up_plan.plan("venv-dev")[0].command[-1] == "venv-dev"


def test_steps_run_at_once_and_each_says_its_time_and_last_line(
    capfd: pytest.CaptureFixture[str],
) -> None:
    steps = [
        sh("slow", "sleep 0.6; echo slow is done"),
        sh("quick", "echo noise; echo quick is done"),
        sh("then", "echo then is done", after=("quick",)),
    ]
    started = time.monotonic()
    assert set_up.run(SetUp(steps), [], []) == 0
    assert time.monotonic() - started < 1.5, "the steps did not run at once"
    out = capfd.readouterr().out.splitlines()
    assert [line.split()[1] for line in out[:3]] == ["quick", "then", "slow"]
    assert out[0].endswith("s  quick is done") and "noise" not in out[0]
    assert out[-1].startswith("set-up: done in ") and "slow 0." in out[-1]


def test_a_failed_step_stops_the_others_and_shows_the_end_of_its_log(
    capfd: pytest.CaptureFixture[str], logs: Path
) -> None:
    steps = [
        sh("long", "sleep 30"),
        sh("broken", "echo first line; echo the reason it failed; exit 3"),
        sh("later", "echo never", after=("broken",)),
    ]
    started = time.monotonic()
    assert set_up.run(SetUp(steps), [], []) == 1
    assert time.monotonic() - started < 10, "the long step was not stopped"
    out = capfd.readouterr().out
    assert "set-up: stopped long" in out
    assert "set-up: broken failed after" in out and "(exit code 3)" in out
    assert "    the reason it failed" in out
    assert "never" not in out and not (logs / "later.log").exists()


def test_the_command_starts_early_when_no_image_is_built_and_waits_for_the_rest(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, logs: Path
) -> None:
    monkeypatch.setattr(set_up, "images_absent", lambda images: True)
    steps = [sh("venv", ""), sh("engine", ""), sh("task images", "sleep 1; echo built")]
    command = ["sh", "-c", f"echo demo started; sleep 2; echo demo ends > {logs}/demo"]
    assert set_up.run(SetUp(steps), command, ["x/y:latest"]) == 0
    out = capfd.readouterr().out
    assert out.index("demo started") < out.index("set-up: task images")
    assert (logs / "demo").read_text() == "demo ends\n", "the set-up did not wait for it"


def test_a_step_failing_after_the_early_start_stops_the_command(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(set_up, "images_absent", lambda images: True)
    steps = [sh("venv", ""), sh("engine", ""), sh("task images", "sleep 0.5; exit 1")]
    started = time.monotonic()
    assert set_up.run(SetUp(steps), ["sleep", "30"], ["x/y:latest"]) == 1
    assert time.monotonic() - started < 10, "the command was not stopped"
    assert "set-up: task images failed after" in capfd.readouterr().out


def test_with_an_image_built_already_the_command_waits_for_the_set_up(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(set_up, "images_absent", lambda images: False)
    execs: list[list[str]] = []
    monkeypatch.setattr(set_up.os, "execvp", lambda path, args: execs.append(args))
    steps = [sh("venv", ""), sh("engine", ""), sh("task images", "sleep 0.3")]
    assert set_up.run(SetUp(steps), ["the", "demo"], ["x/y:latest"]) == 0
    assert execs == [["the", "demo"]]
    assert "set-up: done in" in capfd.readouterr().out


def test_ctrl_c_stops_the_steps(capfd: pytest.CaptureFixture[str]) -> None:
    state = SetUp([sh("long", "sleep 30")])
    state.start_ready()
    state.interrupted = True
    assert set_up.run(state, [], []) == 130
    assert "set-up: stopped long" in capfd.readouterr().out


def test_a_step_whose_inputs_did_not_change_since_it_succeeded_is_skipped(
    capfd: pytest.CaptureFixture[str], logs: Path
) -> None:
    inputs = {"now": "files v1, images a b"}
    step = Step("task images", ("sh", "-c", "echo built >> built"), inputs=lambda: inputs["now"])
    assert set_up.run(SetUp([step]), []) == 0
    assert set_up.run(SetUp([step]), []) == 0
    assert (logs / "built").read_text() == "built\n"
    assert "set-up: task images    0.0 s  up to date" in capfd.readouterr().out
    inputs["now"] = "files v2, images a b"
    assert set_up.run(SetUp([step]), []) == 0
    assert (logs / "built").read_text() == "built\nbuilt\n"


def test_a_step_whose_inputs_are_unknown_always_runs(logs: Path) -> None:
    step = Step("task images", ("sh", "-c", "echo built >> built"), inputs=lambda: None)
    for _ in range(2):
        assert set_up.run(SetUp([step]), []) == 0
    assert (logs / "built").read_text() == "built\nbuilt\n"
