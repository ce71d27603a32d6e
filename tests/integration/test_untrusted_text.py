"""Untrusted task text, end to end: nothing unfit is posted, and the commands print it all.

One runner process serves tests/images/untrusted, whose tasks write lone surrogates
in a message, an output value and output keys, NaN, 1e999, out-of-range and
non-numeric progress, lines nested 100,000 deep, results just under and just over
the depth limit, and terminal control sequences. Each must end in exactly one
terminal status of the expected kind; every status the local server stored must be
fit for any platform (valid Unicode, a progress in [0, 1], no NaN, not too deep);
and `xc-runner status`, `watch` and `submit --wait` must print every instance without
dying and without a character that drives a terminal.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.core.model import TERMINAL_STATUSES
from runner.core.protocol import MAX_MESSAGE_DEPTH
from runner.engine.docker_engine import DockerEngine
from runner.localserver import LocalServer
from runner.localserver.client import LocalClient
from tests.conftest import REPO, build_test_image
from tests.integration.processes import runner_process, wait_for

pytestmark = pytest.mark.integration

KEY = "untrusted-key"
IMAGE = "xc-test/untrusted:latest"
SURROGATE = "not valid Unicode text: a lone UTF-16 surrogate"
NOT_A_FRACTION = "is not a fraction between 0 and 1, as a number or a numeric string"
TOO_DEEP = f"nested deeper than the limit of {MAX_MESSAGE_DEPTH} levels of objects and arrays"
CONTROLS = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x9b31m\rover\bwrite\x7f\u202eevil"


def emit(line: str) -> tuple[str, dict[str, str]]:
    return "emit", {"line": line}


def notify(progress: str) -> tuple[str, dict[str, str]]:
    return emit('{"type":"notify","status":"InProgress","progressPercentage":' + progress + "}")


def deep(depth: int, kind: str) -> tuple[str, dict[str, str]]:
    return "deep", {"depth": str(depth), "kind": kind}


# key: (task, inputs), the terminal status expected, and what its message must hold.
CASES: dict[str, tuple[tuple[str, dict[str, str]], str, str]] = {
    "message": (
        emit(r'{"type":"notify","status":"InProgress","message":"half \udfff"}'),
        "Error",
        "invalid notify message: message.message: " + SURROGATE + r" \udfff at character 5",
    ),
    "error_message": (
        emit(r'{"type":"notify","status":"Error","message":"\ud800!","errorLevel":"Fatal"}'),
        "Error",
        "invalid notify message: message.message: " + SURROGATE + r" \ud800",
    ),
    "output_value": (
        emit(r'{"type":"result","outputs":{"text":"ok \ude00"}}'),
        "Error",
        "invalid result message: message.outputs.text: " + SURROGATE + r" \ude00",
    ),
    "output_key": (
        emit(r'{"type":"result","outputs":{"data":{"list":[{"k\udc80":1}]}}}'),
        "Error",
        r"invalid result message: message.outputs.data.list[0].k\udc80: the name is " + SURROGATE,
    ),
    "output_name": (
        emit(r'{"type":"result","outputs":{"\udfff":"v"}}'),
        "Error",
        r"invalid result message: message.outputs.\udfff: the name is " + SURROGATE,
    ),
    "surrogate_pair": (
        emit(r'{"type":"result","outputs":{"text":"\ud83d\ude00"}}'),
        "Completed",
        "",
    ),
    "nan": (notify("NaN"), "Error", "message.progressPercentage: NaN is not a finite number"),
    "infinity": (notify("-Infinity"), "Error", "progressPercentage: -Infinity is not a finite"),
    "1e999": (notify("1e999"), "Error", "message.progressPercentage: a number too large"),
    "150": (notify("150"), "Error", "progressPercentage: 150 " + NOT_A_FRACTION),
    "-5": (notify("-5"), "Error", "progressPercentage: -5 " + NOT_A_FRACTION),
    "abc": (notify('"abc"'), "Error", "progressPercentage: 'abc' " + NOT_A_FRACTION),
    "'150'": (notify('"150"'), "Error", "progressPercentage: '150' " + NOT_A_FRACTION),
    "fraction": (notify('"0.5"'), "Completed", ""),
    "at_limit": (deep(MAX_MESSAGE_DEPTH, "result"), "Completed", ""),
    "over_limit": (deep(MAX_MESSAGE_DEPTH + 1, "result"), "Error", TOO_DEEP),
    "deep_result": (deep(100_000, "result"), "Error", "message.outputs.data[0].k[0].k"),
    "deep_notify": (deep(100_000, "notify"), "Error", "message.x.y[0].k[0].k[0].k"),
    "deep_log": (deep(100_000, "log"), "Completed", ""),
    "controls": (
        emit(json.dumps({"type": "result", "outputs": {"text": CONTROLS}})),
        "Completed",
        "",
    ),
    "scribble": (("scribble", {}), "Error", "stderr ends with: about to fail " + CONTROLS),
}


@pytest.fixture(scope="module")
def untrusted_image(engine: DockerEngine) -> str:
    return build_test_image("untrusted", IMAGE)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with LocalServer(tmp_path / "scenario.db", port=0, api_key=KEY) as local:
        yield local


def xc_runner(server: LocalServer, *argv: str, stdout: Any = subprocess.PIPE, **env: str) -> Any:
    """`xc-runner <argv>` as its own process, talking to `server`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("XC_")}
    environ.update(XC_SCENARIO_SERVER=server.url, XC_SCENARIO_APIKEY=KEY, **env)
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *argv],
        cwd=REPO,
        env=environ,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",  # so that a stray byte would be seen, not crash the test
    )


def finished(proc: subprocess.Popen[str], code: int = 0) -> str:
    """What a command printed; it must have ended with `code` (1: `submit --wait` of a task
    that ended in Error), and printed nothing unsafe."""
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code and "Traceback" not in err, err
    return safe(out or "")


def printed(server: LocalServer, *argv: str, **env: str) -> str:
    return finished(xc_runner(server, *argv, **env))


def safe(text: str) -> str:
    text.encode("utf-8")
    unsafe = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0]
    assert unsafe == [], text
    assert "\u202e" not in text
    return text


def fit_to_post(value: Any, depth: int = 1) -> None:
    """A status body any platform takes: Unicode text, finite numbers, not too deep."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict | list):
        assert depth <= MAX_MESSAGE_DEPTH
        for key in value if isinstance(value, dict) else ():
            key.encode("utf-8")
        for child in value.values() if isinstance(value, dict) else value:
            fit_to_post(child, depth + 1)


class Marker:
    """An instance of no task the runner serves, whose statuses the test posts itself: once
    `watch` prints one, it follows the server, and the runner may start."""

    def __init__(self, server: LocalServer, client: LocalClient) -> None:
        self.url = server.url
        self.id = client.submit("marker", "ready")["id"]
        headers = {"Authorization": f"bearer {KEY}"}
        self.session = requests.Session()
        self.session.headers.update(headers)
        poll = self.session.post(
            f"{self.url}/polling/api/namespaces/marker/task-instances/poll", timeout=10
        )
        assert poll.status_code == 200 and poll.json()["id"] == self.id, poll.text

    def post(self, message: str) -> None:
        body = {"taskInstanceId": self.id, "status": "InProgress", "message": message}
        answer = self.session.post(
            f"{self.url}/taskstatus/api/task-statuses", json=body, timeout=10
        )
        assert answer.status_code == 200, answer.text


def watch_until_ready(server: LocalServer, marker: Marker, out_path: Path) -> Any:
    with out_path.open("w") as out:
        watch = xc_runner(server, "watch", stdout=out)
    tries = iter(range(1_000_000))

    def ready() -> bool:
        marker.post(f"ready {next(tries)}")
        return "ready" in out_path.read_text(errors="replace")

    wait_for(ready, 60, "watch to follow the server")
    return watch


def submit_and_wait(server: LocalServer, key: str) -> Any:
    (task, inputs), _, _ = CASES[key]
    pairs = [f"{name}={value}" for name, value in inputs.items()]
    return xc_runner(server, "submit", "untrusted", task, *pairs, "--wait")


def test_untrusted_text_is_refused_or_shown_safely(
    server: LocalServer, untrusted_image: str, runner_id: str, tmp_path: Path
) -> None:
    client = LocalClient(server.url, KEY)
    watch = watch_until_ready(server, Marker(server, client), tmp_path / "watch.out")
    ids = {key: client.submit("untrusted", *task)["id"] for key, (task, _, _) in CASES.items()}
    with runner_process(server.url, KEY, [untrusted_image], runner_id) as runner:
        waiting = {key: submit_and_wait(server, key) for key in ("scribble", "controls")}
        for key, proc in waiting.items():
            lines = finished(proc, 1 if CASES[key][1] == "Error" else 0).splitlines()
            assert f" {CASES[key][1]} " in lines[-1], lines  # the terminal status
            ids[f"{key} waited"] = lines[0]
        views: dict[str, Any] = {}

        def ended() -> bool:
            views.update({key: client.instance(i) for key, i in ids.items()})
            return all(view["state"] in TERMINAL_STATUSES for view in views.values())

        wait_for(ended, 180, "every task to end", runner)
        assert runner.stop() == 0, runner.log()
        log = runner.log()
    watch.send_signal(signal.SIGINT)
    finished(watch)
    watched = safe((tmp_path / "watch.out").read_text())

    assert "Traceback" not in log and "internal runner error" not in log, log
    assert "\x1b" not in log and r"\x1b[2J" in log, log  # task output is logged escaped
    for key, instance_id in ids.items():
        check_instance(key, views[key])
        assert str(instance_id)[:8] in watched, key
        shown = printed(server, "status", str(instance_id))
        assert len(shown.splitlines()) == 1 + len(views[key]["statuses"]), shown
    assert views["fraction"]["statuses"][0]["progressPercentage"] == "0.5"
    assert views["controls"]["statuses"][-1]["outputValues"]["text"] == CONTROLS  # as written
    assert r"\x9b31m\rover" in printed(server, "status", str(ids["controls"]))
    emoji = printed(server, "status", str(ids["surrogate_pair"]), PYTHONIOENCODING="ascii")
    assert r'{"data": "-", "text": "\U0001f600"}' in emoji  # what the terminal cannot show


def check_instance(key: str, view: Mapping[str, Any]) -> None:
    """One terminal status, of the kind expected, and nothing posted unfit for a platform."""
    statuses = view["statuses"]
    terminal = [s for s in statuses if s["status"] in TERMINAL_STATUSES]
    assert len(terminal) == 1, (key, statuses)
    _, kind, says = CASES[key.split(maxsplit=1)[0]]
    assert terminal[0]["status"] == kind and says in terminal[0]["message"], (key, terminal)
    for status in statuses:
        fit_to_post(status)
        progress = status.get("progressPercentage")
        assert progress is None or 0 <= float(progress) <= 1, (key, status)
