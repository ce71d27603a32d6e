"""/healthz, /readyz, /status and /metrics as the WSGI application answers them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults

from runner.core.model import TaskInstance
from runner.ops.http import OpsApp
from runner.ops.logs import redact
from runner.ops.metrics import Metrics
from runner.ops.probes import Identity, Probes


@dataclass
class View:
    health_reason: str | None = None
    ready_reason: str | None = None
    pending: int = 0
    fail: bool = False

    def health(self) -> str | None:
        return self.health_reason

    def readiness(self) -> str | None:
        if self.fail:
            raise RuntimeError("a bug")
        return self.ready_reason

    def outbox_pending(self) -> int:
        return self.pending

    def served_images(self) -> list[dict[str, str | None]]:
        return [
            {"image": "xc-tasks/sample:latest", "imageId": "sha256:ab12", "digest": None},
            {"image": "reg.example:5000/ocr:1", "imageId": "sha256:cd34", "digest": "sha256:ef"},
        ]


class Clock:
    now = 50.0

    def __call__(self) -> float:
        return self.now


IDENTITY = Identity("runner-7", "1.2.3", ("xc-tasks/sample:latest",), 4)


def app(view: View, clock: Clock | None = None) -> tuple[OpsApp, Metrics]:
    metrics = Metrics(
        [("sample", "double")], images=IDENTITY.images, slots=4, clock=clock or Clock()
    )
    metrics.watch(
        outbox_pending=view.outbox_pending,
        engine_up=lambda: True,
        ready=lambda: view.readiness() is None,
        image_up=lambda image: True,
    )
    return OpsApp(Probes(view, metrics, IDENTITY), metrics.registry), metrics


@dataclass
class Reply:
    status: str
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split()[0])

    def json(self) -> Any:
        assert self.headers["Content-Type"] == "application/json"
        return json.loads(self.body)


def get(application: OpsApp, path: str, method: str = "GET") -> Reply:
    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": method}
    setup_testing_defaults(environ)
    started: list[Any] = []
    body = b"".join(application(environ, lambda status, headers: started.append((status, headers))))
    status, headers = started[0]
    return Reply(status, dict(headers), body)


def test_healthz_is_200_while_alive_and_503_with_the_reason_when_not() -> None:
    view = View()
    application, _ = app(view)
    reply = get(application, "/healthz")
    assert (reply.code, reply.json()) == (200, {"status": "ok"})
    view.health_reason = "the poll loop has shown no sign of life for 41 s"
    reply = get(application, "/healthz")
    assert reply.code == 503
    assert reply.json() == {"status": "unhealthy", "reason": view.health_reason}
    assert reply.headers["Cache-Control"] == "no-store"


def test_readyz_is_503_with_the_reason_the_runner_logs() -> None:
    view = View()
    application, _ = app(view)
    assert get(application, "/readyz").json() == {"status": "ready"}
    view.ready_reason = "statuses cannot be delivered (3 waiting): HTTP 503"
    reply = get(application, "/readyz")
    assert reply.code == 503
    assert reply.json() == {"status": "not ready", "reason": view.ready_reason}


def test_status_says_who_the_runner_is_what_runs_and_what_is_owed() -> None:
    clock = Clock()
    view = View(pending=5)
    application, metrics = app(view, clock)
    metrics.task_started(TaskInstance("i-1", "sample", "double"))
    clock.now += 2.25
    reply = get(application, "/status")
    assert reply.code == 200
    assert reply.json() == {
        "runnerId": "runner-7",
        "version": "1.2.3",
        "images": ["xc-tasks/sample:latest"],
        "servedImages": [
            {"image": "xc-tasks/sample:latest", "imageId": "sha256:ab12", "digest": None},
            {"image": "reg.example:5000/ocr:1", "imageId": "sha256:cd34", "digest": "sha256:ef"},
        ],
        "slots": 4,
        "running": [
            {"taskInstanceId": "i-1", "namespace": "sample", "task": "double", "ageSeconds": 2.25}
        ],
        "outboxPending": 5,
    }


def test_metrics_are_the_prometheus_text_format() -> None:
    application, metrics = app(View(pending=2))
    metrics.polled("empty")
    reply = get(application, "/metrics")
    assert reply.code == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = reply.body.decode()
    assert 'xc_runner_polls_total{result="empty"} 1.0' in text
    assert "xc_runner_outbox_pending 2.0" in text


def test_unknown_paths_other_methods_and_failing_probes() -> None:
    view = View(fail=True)
    application, _ = app(view)
    missing = get(application, "/admin")
    assert missing.code == 404
    assert "/metrics, /healthz, /readyz, /status" in missing.json()["error"]
    posted = get(application, "/healthz", method="POST")
    assert (posted.code, posted.headers["Allow"]) == (405, "GET")
    assert get(application, "/metrics", method="DELETE").code == 405
    broken = get(application, "/readyz")
    assert broken.code == 500
    assert broken.json() == {"error": "GET /readyz failed; see the runner's log"}


def test_a_reason_never_shows_the_api_key() -> None:
    redact("probe-test-secret-91c3")
    view = View(ready_reason="HTTP 400: bad key probe-test-secret-91c3")
    application, _ = app(view)
    assert "probe-test-secret-91c3" not in get(application, "/readyz").body.decode()
    assert get(application, "/readyz").json()["reason"] == "HTTP 400: bad key <redacted>"
