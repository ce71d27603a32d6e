"""The cockpit's list over HTTP against a database of 100,000 task instances: each filtered
page (state, namespace, task, search, in each order, in a time range) with its total,
timed and printed; a long poll with nothing new; the failures grouped (the first read
folds every message); an export of every row, streamed.

The database is made as an older local server left it (its platform tables only, filled
in one go), so opening it also adds and fills the cockpit's tables and search index,
which is timed too. The target is a page in under 100 ms; the assertions are generous,
for a loaded machine.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.localserver import LocalServer
from runner.localserver.cockpit.board import Board
from runner.localserver.cockpit.export import Exports
from runner.localserver.cockpit.query import filters_in
from runner.localserver.records import iso
from runner.localserver.retention import Retention
from runner.localserver.routing import Request
from runner.localserver.sql import SCHEMA
from runner.localserver.store import Store

pytestmark = pytest.mark.integration

INSTANCES = 100_000
KEY = "cockpit-scale-key"
TASKS = [(ns, f"task{j}") for ns in ("sample", "numbers", "text", "greet") for j in range(3)]
SPACING_S = 1.7  # between two submissions: 100,000 over the last two days
PLATFORM = SCHEMA[: next(i for i, s in enumerate(SCHEMA) if "statuses_received" in s) + 1]
TARGET_S = 0.1
GENEROUS_S = 1.0  # what fails the test: ten times the target


def build(path: Path, count: int) -> None:
    """`count` instances: 85 % Completed, 10 % Error, 3 % Queued, 2 % running, 1 % cancelled;
    each ended one with a progress status and its terminal one. They were submitted over
    the last two days, one every SPACING_S, each handed out 1 s and ended 3 s after."""
    rnd = random.Random(7)
    instances, statuses = [], []
    start = datetime.now(UTC) - timedelta(seconds=count * SPACING_S)
    for k in range(count):
        created = start + timedelta(seconds=k * SPACING_S)
        namespace, name = rnd.choice(TASKS)
        instance_id = str(uuid.UUID(int=rnd.getrandbits(128)))
        r = rnd.random()
        state = (
            "Completed"
            if r < 0.85
            else "Error"
            if r < 0.95
            else "Queued"
            if r < 0.98
            else "InProgress"
        )
        inputs = json.dumps({"x": k, "word": rnd.choice(["alpha", "beta", "gamma", "delta"])})
        taken = None if state == "Queued" else iso(created + timedelta(seconds=1))
        instances.append(
            (
                instance_id,
                namespace,
                name,
                inputs,
                "w",
                iso(created),
                state,
                int(rnd.random() < 0.01),
                taken,
            )
        )
        if state == "Queued":
            continue
        progressed = iso(created + timedelta(seconds=2))
        statuses.append(
            (instance_id, namespace, name, "InProgress", f"step {k}", '"0.5"', None, progressed)
        )
        ended = iso(created + timedelta(seconds=1 + (k * 7919) % 3000 / 100))  # 0 to 30 s
        if state == "Completed":
            outputs = json.dumps({"out": f"value-{k}"})
            statuses.append((instance_id, namespace, name, "Completed", "", None, outputs, ended))
        elif state == "Error":
            message = rnd.choice(["ZeroDivisionError: division by zero", "boom", "timed out"])
            statuses.append((instance_id, namespace, name, "Error", message, None, None, ended))
    with sqlite3.connect(path) as db:
        for statement in PLATFORM:
            db.execute(statement)
        db.executemany(
            "INSERT INTO instances (id, namespace, name, input_data, workflow_instance_id,"
            " created_at, state, cancelled, taken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            instances,
        )
        db.executemany(
            "INSERT INTO statuses (instance_id, namespace, name, status, message, progress,"
            " output_values, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            statuses,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    path = tmp_path_factory.mktemp("cockpit-scale") / "scenario.db"
    started = time.monotonic()
    build(path, INSTANCES)
    built = time.monotonic()
    # Retention would delete ended instances beyond its default while the list is measured.
    keep_all = Retention(keep=INSTANCES * 2)
    with LocalServer(path, port=0, api_key=KEY, retention=keep_all) as running:
        print(
            f"\n{INSTANCES:,} instances written in {built - started:.1f} s; the cockpit's "
            f"tables and search index added at start-up in {time.monotonic() - built:.1f} s"
        )
        yield running


def timed(server: LocalServer, **params: Any) -> tuple[float, dict[str, Any]]:
    """The best of three answers' time, and the answer."""
    best, answer = float("inf"), {}
    with requests.Session() as session:
        for _ in range(3):
            began = time.perf_counter()
            reply = session.get(
                f"{server.url}/local/api/cockpit/tasks",
                params={"limit": 200, **params},
                headers={"X-XC-Cockpit": "1"},
                timeout=30,
            )
            best = min(best, time.perf_counter() - began)
            assert reply.status_code == 200, reply.text
            answer = reply.json()
    return best, answer


CASES: list[dict[str, Any]] = [
    {},
    {"order": "oldest"},
    {"state": "Error"},
    {"state": "Queued", "order": "oldest"},
    {"state": "Cancelled"},
    {"namespace": "numbers"},
    {"namespace": "numbers", "name": "task1"},
    {"namespace": "numbers", "name": "task1", "state": "Error"},
    {"q": "3f2"},
    {"q": "value-9999"},
    {"q": "ZeroDivision"},
    {"q": "boom", "state": "Error", "namespace": "text"},
    {"q": "gamma"},
]


def sorted_and_ranged() -> list[dict[str, Any]]:
    """Pages in other orders, and of a time range (relative to now, as the page asks)."""
    hour, day = (iso(datetime.now(UTC) - timedelta(hours=h)) for h in (1, 24))
    return [
        {"sort": "duration"},
        {"sort": "duration", "order": "asc"},
        {"sort": "ended"},
        {"sort": "ended", "order": "asc"},
        {"sort": "state", "order": "asc"},
        {"state": "Error", "sort": "duration"},
        {"namespace": "numbers", "name": "task1", "sort": "ended"},
        {"submittedFrom": hour},
        {"endedFrom": hour, "sort": "duration"},
        {"submittedFrom": day, "state": "Error"},
        {"endedFrom": day, "q": "gamma"},
    ]


def test_a_filtered_page_of_100000_instances(server: LocalServer) -> None:
    lines, slow = [], []
    for case in CASES + sorted_and_ranged():
        took, answer = timed(server, **case)
        shown = " ".join(f"{k}={_short(v)}" for k, v in case.items()) or "(no filter)"
        lines.append(
            f"  {shown:45} {len(answer['tasks']):3} of {answer['total']:>7,}  {took * 1000:6.1f} ms"
        )
        if took > TARGET_S:
            slow.append(shown)
        assert took < GENEROUS_S, f"{shown}: {took:.2f} s"
        assert len(answer["tasks"]) == min(200, answer["total"])
    print(
        f"\nthe cockpit's list at {INSTANCES:,} instances (a page of 200 and its total, "
        "best of 3):\n" + "\n".join(lines)
    )
    print(f"over {TARGET_S * 1000:.0f} ms: {', '.join(slow) or 'none'}")
    everything = timed(server)[1]
    assert everything["total"] == INSTANCES and everything["next"] is not None


def _short(value: str) -> str:
    """A time as how long before now, else the value."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"({(datetime.now(UTC) - moment).total_seconds() / 3600:.0f} h ago)"


def test_a_long_poll_with_filters_at_100000_instances(server: LocalServer) -> None:
    marks = timed(server, state="Error")[1]
    began = time.perf_counter()
    reply = requests.get(
        f"{server.url}/local/api/cockpit/tasks",
        params={
            "state": "Error",
            "after": marks["last"],
            "since": marks["lastInstance"],
            "changes": marks["lastChange"],
            "waitSeconds": 0,
        },
        headers={"X-XC-Cockpit": "1"},
        timeout=30,
    )
    took = time.perf_counter() - began
    print(f"\na filtered long poll with nothing new answers in {took * 1000:.1f} ms")
    assert reply.status_code == 200 and reply.json()["tasks"] == []
    assert took < GENEROUS_S


def test_failure_groups_of_100000_instances(server: LocalServer) -> None:
    """The first read folds every failure's message once; later reads only the new ones."""
    errors = timed(server, state="Error")[1]["total"]
    took = []
    for _ in range(2):
        began = time.perf_counter()
        reply = requests.get(
            f"{server.url}/local/api/cockpit/failures", headers={"X-XC-Cockpit": "1"}, timeout=60
        )
        took.append(time.perf_counter() - began)
        assert reply.status_code == 200, reply.text
    found = reply.json()
    print(
        f"\n{errors:,} failures grouped: {took[0] * 1000:.0f} ms the first time (each folded), "
        f"then {took[1] * 1000:.0f} ms"
    )
    assert found["failures"] == errors and found["count"] == 3
    assert sorted(g["message"] for g in found["groups"]) == [
        "ZeroDivisionError: division by zero", "boom", "timed out",
    ]  # fmt: skip


def test_an_export_of_100000_rows_is_streamed_in_bounded_memory(
    server: LocalServer,
) -> None:
    """Over HTTP, the first bytes come at once and every row follows; the export alone (the
    same stream, read in this process) holds a page of rows at a time: its peak memory
    grows by far less than the file (the peak is reset first: /proc/self/clear_refs)."""
    size, lines, first = 0, 0, 0.0
    began = time.perf_counter()
    with requests.get(
        f"{server.url}/local/api/cockpit/export",
        params={"format": "csv"},
        headers={"X-XC-Cockpit": "1"},
        stream=True,
        timeout=300,
    ) as reply:
        assert reply.status_code == 200, reply.text
        for chunk in reply.iter_content(64 * 1024):
            first = first or time.perf_counter() - began
            size += len(chunk)
            lines += chunk.count(b"\r\n")
    took = time.perf_counter() - began
    assert lines == INSTANCES + 1
    assert first < took / 10, "the file came in one piece"

    with Store(server.db_path) as store:
        exports = Exports(store, Board(store), filters_in, "/x")
        Path("/proc/self/clear_refs").write_text("5")
        before = _kib("VmRSS")
        body = exports.export(Request((), {"format": "csv"}, b""))[1]
        written = sum(len(chunk) for chunk in body.chunks)
        body.chunks.close()
        grew_mib = (_kib("VmHWM") - before) / 1024
    print(
        f"\nan export of {INSTANCES:,} rows as CSV: {size / 2**20:.1f} MiB in {took:.1f} s "
        f"over HTTP, the first bytes after {first * 1000:.0f} ms; written alone, its peak "
        f"memory grew by {grew_mib:.1f} MiB"
    )
    assert written == size
    assert grew_mib < size / 2**20 / 4, "the export was held in memory"


def _kib(field: str) -> int:
    """A /proc/self/status figure, in KiB (VmRSS: now; VmHWM: the peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")
