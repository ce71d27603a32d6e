"""The cockpit's pure parts: what a task line shows, the chart, where a form's problem goes,
which request needs the key, and the page's files (no HTTP, no SQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runner.contracts import Contracts
from runner.core.conformance import Problem
from runner.core.errors import ConfigError, TaskRejected
from runner.localserver.cockpit import assets
from runner.localserver.cockpit.access import need
from runner.localserver.cockpit.form import input_problems, place, route_of
from runner.localserver.cockpit.views import (
    CHART_BUCKETS,
    chart,
    parse_time,
    progress_fraction,
    seconds_between,
    task_summary,
)
from runner.localserver.gate import Gate, Need

KEY = "cockpit-key"
OWN = frozenset({"127.0.0.1", "localhost", "[::1]"})
RECTANGLE = {
    "namespace": "sample",
    "name": "rectangle",
    "schemaVersion": 0,
    "inputs": [
        {"name": "width", "baseType": "Number"},
        {"name": "height", "baseType": "Number"},
        {"name": "unit", "baseType": "String", "allowedValues": ["cm", "in"], "defaultValue": "cm"},
        {"name": "tags", "baseType": "String", "allowMultipleValues": True, "defaultValue": []},
    ],
}


def row(state: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": "6f1c0000-aaaa",
        "ordinal": 7,
        "namespace": "sample",
        "name": "double",
        "state": state,
        "cancelled": 0,
        "created_at": "2026-11-27T12:00:00.000Z",
        "taken_at": "2026-11-27T12:00:01.000Z" if state != "Queued" else None,
        **fields,
    }


def status(kind: str, seq: int = 3, **fields: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "status": kind,
        "message": None,
        "progressPercentage": None,
        "outputValues": None,
        "errorLevel": None,
        "receivedAt": "2026-11-27T12:00:03.500Z",
        **fields,
    }


# -- views ----------------------------------------------------------------------


def test_times_and_durations() -> None:
    assert parse_time("2026-11-27T12:00:01.250Z") == datetime(2026, 11, 27, 12, 0, 1, 250000, UTC)
    assert parse_time("yesterday") is None and parse_time(None) is None
    assert seconds_between("2026-11-27T12:00:01.000Z", "2026-11-27T12:00:03.500Z") == 2.5
    assert seconds_between("2026-11-27T12:00:01.000Z", None) is None
    assert seconds_between("garbage", "2026-11-27T12:00:03.500Z") is None


@pytest.mark.parametrize(
    ("value", "fraction"),
    [(0.25, 0.25), ("0.5", 0.5), ("1e-1", 0.1), (1, 1.0), (3, 1.0), (-1, 0.0),
     (None, None), ("half", None), (True, None), ("nan", None), ({"a": 1}, None)],
)
def test_progress_fraction(value: Any, fraction: float | None) -> None:
    assert progress_fraction(value) == fraction


def test_a_queued_task() -> None:
    summary = task_summary(row("Queued"), None, None)
    assert summary["state"] == "Queued"
    assert summary["durationS"] is None and summary["progress"] is None
    assert summary["message"] is None and summary["seq"] is None


def test_a_task_handed_out_without_a_status_yet_is_in_progress() -> None:
    summary = task_summary(row("Taken"), None, None)
    assert summary["state"] == "InProgress" and summary["takenAt"] is not None
    assert summary["endedAt"] is None


def test_a_running_task_shows_its_last_message_and_last_known_progress() -> None:
    summary = task_summary(row("InProgress"), status("InProgress", message="Waking up."), "0.75")
    assert summary["state"] == "InProgress"
    assert summary["message"] == "Waking up." and summary["progress"] == 0.75
    assert summary["durationS"] is None and summary["outputs"] is None


def test_a_completed_task_shows_its_outputs_and_duration() -> None:
    done = status("Completed", outputValues={"nbr_out": "42"}, message="")
    summary = task_summary(row("Completed"), done, "0.5")
    assert summary["progress"] == 1.0
    assert summary["outputs"] == {"nbr_out": "42"}
    assert summary["endedAt"] == done["receivedAt"] and summary["durationS"] == 2.5


def test_a_failed_task_shows_its_error() -> None:
    failed = status("Error", message="ZeroDivisionError: division by zero", errorLevel="Fatal")
    summary = task_summary(row("Error", cancelled=1), failed, None)
    assert summary["state"] == "Error" and summary["cancelled"] is True
    assert summary["message"] == "ZeroDivisionError: division by zero"
    assert summary["errorLevel"] == "Fatal" and summary["outputs"] is None
    assert summary["durationS"] == 2.5


RUN = {
    "runnerId": "r1",
    "containerId": "c1",
    "startedAt": "2026-11-27T12:00:01.800Z",
    "endedAt": "2026-11-27T12:00:02.300Z",
    "durationS": 0.5,
}


def test_a_task_its_runner_timed_shows_the_runners_duration_and_the_servers() -> None:
    done = status("Completed", outputValues={}, message="")
    summary = task_summary(row("Completed"), done, None, RUN)
    assert summary["durationS"] == 0.5 and summary["receivedDurationS"] == 2.5
    assert summary["run"] == RUN
    running = task_summary(row("InProgress"), status("InProgress"), None, RUN)
    assert running["durationS"] is None  # not ended yet as far as the server knows


def test_a_task_cancelled_before_a_runner_took_it_is_shown_cancelled() -> None:
    summary = task_summary(row("Queued", cancelled=1), None, None)
    assert summary["state"] == "Cancelled" and summary["durationS"] is None
    assert task_summary(row("Taken", cancelled=1), None, None)["state"] == "InProgress"


def test_the_chart_uses_the_runners_times_when_it_has_them() -> None:
    now = datetime(2026, 11, 27, 12, 10, tzinfo=UTC)
    late = {**ended("Completed", "2026-11-27T12:05:00.000Z"), "run": RUN | {
        "endedAt": "2026-11-27T12:04:00.000Z", "durationS": 21.2}}
    data = chart([late], now, 15)
    assert data["points"] == [{"task": "sample/double", "status": "Completed",
                               "endedAt": "2026-11-27T12:04:00.000Z", "durationS": 21.2}]
    outside = {**late, "run": RUN | {"endedAt": "2026-11-27T10:00:00.000Z", "durationS": 3.0}}
    assert chart([outside], now, 15)["points"][0]["endedAt"] == "2026-11-27T12:05:00.000Z"


def ended(status_: str, at: str, taken: str | None = "2026-11-27T11:59:00.000Z") -> dict[str, Any]:
    return {"namespace": "sample", "name": "double", "status": status_, "receivedAt": at,
            "takenAt": taken}


def test_chart_counts_each_ended_task_in_its_interval() -> None:
    now = datetime(2026, 11, 27, 12, 14, 59, tzinfo=UTC)
    drawn = chart(
        [
            ended("Completed", "2026-11-27T12:00:10.000Z", "2026-11-27T12:00:08.000Z"),
            ended("Completed", "2026-11-27T12:00:20.000Z", "2026-11-27T12:00:19.000Z"),
            ended("Error", "2026-11-27T12:14:59.000Z", "2026-11-27T12:14:55.000Z"),
            ended("Completed", "2026-11-27T11:59:59.000Z"),  # before the window
            ended("Completed", "2026-11-27T12:16:00.000Z"),  # after now
            ended("InProgress", "2026-11-27T12:05:00.000Z"),  # not an end
            ended("Completed", "not a time"),
        ],
        now,
        15,
    )
    assert len(drawn["buckets"]) == CHART_BUCKETS and drawn["bucketSeconds"] == 30
    assert drawn["buckets"][0] == {"start": "2026-11-27T12:00:00.000Z", "Completed": 2, "Error": 0}
    assert drawn["buckets"][-1]["Error"] == 1
    assert (drawn["completed"], drawn["errors"]) == (2, 1)
    assert [p["durationS"] for p in drawn["points"]] == [2.0, 1.0, 4.0]
    assert drawn["points"][0] == {"task": "sample/double", "status": "Completed",
                                  "endedAt": "2026-11-27T12:00:10.000Z", "durationS": 2.0}
    assert drawn["medianS"] == 2.0 and drawn["now"] == "2026-11-27T12:14:59.000Z"


def test_the_charts_intervals_do_not_move_while_nothing_happens() -> None:
    tasks = [ended("Completed", f"2026-11-27T12:0{k}:10.000Z") for k in range(5)]
    seen = [
        chart(tasks, datetime(2026, 11, 27, 12, 14, second, tzinfo=UTC), 15)["buckets"]
        for second in (30, 45, 59)
    ]
    assert seen[0] == seen[1] == seen[2]
    assert seen[0][0]["start"] == "2026-11-27T12:00:00.000Z"
    later = chart(tasks, datetime(2026, 11, 27, 12, 15, 0, tzinfo=UTC), 15)["buckets"]
    assert later[0]["start"] == "2026-11-27T12:00:30.000Z"  # a new interval began


def test_an_empty_chart() -> None:
    drawn = chart([], datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 5)
    assert drawn["completed"] == drawn["errors"] == 0 and drawn["medianS"] is None
    assert drawn["bucketSeconds"] == 10 and drawn["points"] == []


# -- the form's check -------------------------------------------------------------


def test_each_problem_goes_on_its_input() -> None:
    names = ["a", "a.b", "tags"]
    assert next(place(Problem("input.a", "bad"), names))["input"] == "a"
    assert next(place(Problem("input.a.b", "bad"), names))["input"] == "a.b"
    assert next(place(Problem("input.tags[1]", "bad"), names))["input"] == "tags"
    missing = list(place(Problem("input", "missing 'a', 'tags'"), names))
    assert [m["input"] for m in missing] == ["a", "tags"]
    assert [m["message"] for m in missing] == ["missing 'a'", "missing 'tags'"]
    extra = list(place(Problem("input", "not declared: 'zzz'"), names))
    assert extra == [{"input": None, "message": "not declared: 'zzz'", "path": "input"}]


def test_the_forms_check_is_the_runners_own() -> None:
    contracts = Contracts()
    bad = {"width": "wide", "unit": "km", "tags": "x"}
    found = input_problems(RECTANGLE, bad, contracts)
    by_input = {p["input"]: p["message"] for p in found}
    assert by_input == {
        "width": "'wide' is not a number (or its text)",
        "height": "missing 'height'",
        "unit": by_input["unit"],
        "tags": by_input["tags"],
    }
    assert "km" in by_input["unit"] and "array" in by_input["tags"]
    # The runner refuses the same inputs with the same words, joined.
    with pytest.raises(TaskRejected) as refused:
        contracts.task_inputs(route_of(RECTANGLE), bad)
    for problem in found:
        assert f"{problem['path']}: {problem['message']}" in str(refused.value)


def test_good_inputs_have_no_problem_and_take_their_defaults() -> None:
    contracts = Contracts()
    assert input_problems(RECTANGLE, {"width": "2.5", "height": 3}, contracts) == []
    inputs = contracts.task_inputs(route_of(RECTANGLE), {"width": "2.5", "height": 3})
    assert inputs == {"width": "2.5", "height": 3, "unit": "cm", "tags": []}


def test_an_input_the_catalog_does_not_declare_is_the_forms_problem() -> None:
    found = input_problems(RECTANGLE, {"width": 1, "height": 1, "depth": 2}, Contracts())
    assert found == [{"input": None, "message": "not declared: 'depth'", "path": "input"}]


# -- access -------------------------------------------------------------------------


def headers(**given: str) -> Any:
    named = {k.replace("_", "-").lower(): v for k, v in given.items()}
    return lambda name: named.get(name.lower())


@pytest.mark.parametrize(
    ("method", "path", "sent", "needs"),
    [
        ("GET", "/", {}, Need.NOTHING),
        ("GET", "/cockpit/main.js", {}, Need.NOTHING),
        ("POST", "/", {}, Need.KEY),
        ("GET", "/local/api/cockpit/tasks", {}, Need.KEY),
        ("GET", "/local/api/cockpit/tasks", {"X_XC_Cockpit": "1"}, Need.KEY_OFF_LOOPBACK),
        ("GET", "/local/api/cockpit/tasks", {"X_XC_Cockpit": "yes"}, Need.KEY),
        ("POST", "/local/api/cockpit/submit",
         {"X_XC_Cockpit": "1", "Origin": "http://127.0.0.1:8077", "Host": "127.0.0.1:8077"},
         Need.KEY_OFF_LOOPBACK),
        ("POST", "/local/api/cockpit/submit",
         {"X_XC_Cockpit": "1", "Origin": "http://127.0.0.1:9999", "Host": "127.0.0.1:8077"},
         Need.KEY),
        ("POST", "/local/api/cockpit/submit",
         {"X_XC_Cockpit": "1", "Origin": "http://localhost", "Host": "localhost:80"},
         Need.KEY_OFF_LOOPBACK),
        ("POST", "/local/api/cockpit/submit",
         {"X_XC_Cockpit": "1", "Origin": "http://evil.example"}, Need.KEY),
        ("POST", "/local/api/cockpit/submit", {"X_XC_Cockpit": "1", "Origin": "null"}, Need.KEY),
        ("GET", "/local/api/cockpit/tasks",
         {"X_XC_Cockpit": "1", "Sec_Fetch_Site": "cross-site"}, Need.KEY),
        ("GET", "/local/api/cockpit/tasks",
         {"X_XC_Cockpit": "1", "Sec_Fetch_Site": "same-origin"}, Need.KEY_OFF_LOOPBACK),
        ("GET", "/local/api/statuses", {"X_XC_Cockpit": "1"}, Need.KEY),
        ("POST", "/local/api/task-instances", {"X_XC_Cockpit": "1"}, Need.KEY),
        ("GET", "/local/api/cockpit/exports/t0ken", {}, Need.NOTHING),  # the ticket is the key
        ("POST", "/local/api/cockpit/exports/t0ken", {}, Need.KEY),
        ("POST", "/local/api/cockpit/exports", {}, Need.KEY),
        ("POST", "/local/api/cockpit/exports", {"X_XC_Cockpit": "1"}, Need.KEY_OFF_LOOPBACK),
        ("GET", "/local/api/cockpit/export", {}, Need.KEY),
    ],
)
def test_what_a_request_needs(method: str, path: str, sent: dict[str, str], needs: Need) -> None:
    assert need(method, path, headers(**sent), OWN) is needs


def test_on_loopback_the_page_and_its_data_need_no_key() -> None:
    gate = Gate(KEY, "127.0.0.1")
    assert gate.refusal("127.0.0.1:8077", None, Need.NOTHING) is None
    assert gate.refusal("localhost", None, Need.KEY_OFF_LOOPBACK) is None
    refused = gate.refusal("localhost", None, Need.KEY)
    assert refused is not None and refused.status == 401
    # DNS rebinding: a foreign name is refused, even for the page's files.
    for kind in Need:
        refused = gate.refusal("rebound.example:8077", None, kind)
        assert refused is not None and refused.status == 403


def test_elsewhere_the_data_needs_the_key_and_the_files_do_not() -> None:
    gate = Gate(KEY, "192.0.2.7")
    assert gate.refusal("192.0.2.7:8077", None, Need.NOTHING) is None
    refused = gate.refusal("192.0.2.7:8077", None, Need.KEY_OFF_LOOPBACK)
    assert refused is not None and refused.status == 401
    wrong = gate.refusal("192.0.2.7:8077", "bearer nope", Need.KEY_OFF_LOOPBACK)
    assert wrong is not None and wrong.status == 401
    assert gate.refusal("192.0.2.7:8077", f"bearer {KEY}", Need.KEY_OFF_LOOPBACK) is None


# -- the page's files -----------------------------------------------------------------


def test_the_files_are_served_by_exact_path_with_their_types() -> None:
    files = assets.load()
    assert files["/"].content_type == "text/html; charset=utf-8"
    assert files["/cockpit/main.js"].content_type == "text/javascript; charset=utf-8"
    assert files["/cockpit/cockpit.css"].content_type == "text/css; charset=utf-8"
    assert all(path == "/" or path.startswith("/cockpit/") for path in files)
    page = files["/"].body.decode()
    for referenced in re.findall(r'(?:src|href)="([^"#][^"]*)"', page):  # #x: in the page
        assert referenced in files, f"index.html needs {referenced}, which is not served"
    for path, file in files.items():
        for module in re.findall(r'from "\./([^"]+)"', file.body.decode()):
            assert f"/cockpit/{module}" in files, f"{path} imports {module}, which is not served"


def test_the_page_loads_nothing_from_elsewhere_and_never_makes_html_of_data() -> None:
    files = assets.load()
    for path, file in files.items():
        text = file.body.decode()
        outside = re.findall(r"https?://[^\s\"')]+", text)
        assert set(outside) <= {"http://www.w3.org/2000/svg"}, (path, outside)
        if path.endswith(".js"):
            for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                          "eval(", "new Function", "setTimeout(\"", "javascript:"):
                assert risky not in text, f"{path} uses {risky}"
    page = files["/"].body.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [], "inline script"
    assert "<style" not in page and " style=" not in page and not re.search(r" on\w+=", page)


def test_every_module_of_the_page_is_preloaded_with_its_entry_point() -> None:
    """The page names each module its script imports, directly or not (modulepreload), so
    that the browser fetches them together, not one import after another: a new module
    must be listed."""
    files = assets.load()
    page = files["/"].body.decode()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="(/cockpit/[^"]+)">', page))
    imported: set[str] = set()
    waiting = ["/cockpit/main.js"]
    while waiting:
        text = files[waiting.pop()].body.decode()
        for name in re.findall(r'^import [^;]*? from "\./([^"]+)";', text, re.MULTILINE):
            if f"/cockpit/{name}" not in imported:
                imported.add(f"/cockpit/{name}")
                waiting.append(f"/cockpit/{name}")
    assert preloaded == imported


def test_the_policy_forbids_inline_script_and_eval() -> None:
    policy = dict(assets.SECURITY_HEADERS)["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "form-action 'none'" in policy and "frame-ancestors 'none'" in policy
    assert dict(assets.SECURITY_HEADERS)["X-Content-Type-Options"] == "nosniff"


def test_missing_files_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"index\.html is missing"):
        assets.load(tmp_path)
    with pytest.raises(ConfigError, match="cannot read the cockpit's files"):
        assets.load(tmp_path / "nowhere")
