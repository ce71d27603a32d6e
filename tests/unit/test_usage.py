"""What a task used: the meter's rules (runner.core.usage), the cgroup files of both versions
(fixtures in tests/fixtures), the executor's meter, and the end line's fields."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import pytest

from runner.core.model import TaskInstance
from runner.core.policy import ContainerLimits, PolicyTable
from runner.core.usage import MIB, Limits, Reading, Usage, UsageMeter
from runner.engine.cgroups import Cgroups, V1Files, V2Files
from runner.engine.usage import UsageSource
from runner.ops.logs import log_handler
from runner.worker.executor import ExecutionSettings, TaskExecutor
from runner.worker.metering import NO_METER, Metering
from tests.unit.fakes import FakeContainer, FakeEngine, RecordingObserver, RecordingSink, message
from tests.unit.test_executor import CATALOG, CONTRACTS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
V1_ID = "0123456789abcdef" * 4
V2_PEAK_ID = "a" * 64
V2_OLD_ID = "b" * 64


def test_a_warm_task_is_charged_from_its_hand_out_a_cold_one_from_its_creation() -> None:
    for start, charged in (("warm", 1.5), ("cold", 2.0)):
        meter = UsageMeter(start)  # type: ignore[arg-type]
        meter.handed_out(Reading(cpu_ns=500_000_000, memory_peak_bytes=5 * MIB), 0.0)
        meter.read(Reading(cpu_ns=2_000_000_000, memory_peak_bytes=40 * MIB), 1.0)
        usage = meter.usage(1.2, oom_killed=False)
        assert usage.cpu_s == pytest.approx(charged)
        assert usage.memory_peak_bytes == 40 * MIB
        assert (usage.start, usage.wall_s, usage.oom_killed) == (start, 1.2, False)


def test_the_last_reading_that_succeeded_is_the_figure() -> None:
    meter = UsageMeter("cold")
    meter.handed_out(Reading(cpu_ns=10), 0.0)
    meter.read(Reading(cpu_ns=300_000_000, memory_peak_bytes=9 * MIB), 0.5)
    meter.read(None, 0.6)  # the cgroup is gone
    assert meter.usage(1.0, oom_killed=False).cpu_s == pytest.approx(0.3)
    nothing = UsageMeter("cold")
    nothing.handed_out(None, 0.0)
    usage = nothing.usage(1.0, oom_killed=False)
    assert (usage.cpu_s, usage.memory_peak_bytes) == (None, None)


def test_readings_are_due_every_interval_and_once_at_the_terminal_message() -> None:
    meter = UsageMeter("warm")
    meter.handed_out(Reading(cpu_ns=1), 10.0)
    assert not meter.due(10.05, terminal=False)
    assert meter.due(10.11, terminal=False)
    assert not meter.due(10.5, terminal=False, every_s=1.0)  # the engine's: once a second
    assert meter.due(10.01, terminal=True)  # at once, whenever the last one was
    meter.read(Reading(cpu_ns=2), 10.02, terminal=True)
    assert not meter.due(99.0, terminal=True)  # its work is done: nothing more to read


def test_without_a_high_water_mark_the_peak_is_the_highest_reading() -> None:
    meter = UsageMeter("cold")
    meter.handed_out(Reading(cpu_ns=1, memory_bytes=3 * MIB), 0.0)
    meter.read(Reading(cpu_ns=2, memory_bytes=70 * MIB), 0.1)
    meter.read(Reading(cpu_ns=3, memory_bytes=20 * MIB), 0.2)
    assert meter.usage(0.3, oom_killed=False).memory_peak_bytes == 70 * MIB


def test_an_oom_kill_counted_by_the_cgroup_or_said_by_the_engine_is_flagged_at_the_limit() -> None:
    limits = Limits(memory_bytes=64 * MIB, cpus=1.0, timeout_s=60.0)
    counted = UsageMeter("cold", limits)
    counted.handed_out(Reading(cpu_ns=1, memory_peak_bytes=MIB, oom_kills=0), 0.0)
    assert not counted.oom_seen
    counted.read(Reading(cpu_ns=2, memory_peak_bytes=30 * MIB, oom_kills=1), 0.1)
    assert counted.oom_seen
    usage = counted.usage(0.2, oom_killed=False)
    assert usage.oom_killed and usage.memory_peak_bytes == 64 * MIB
    said = UsageMeter("warm", limits)
    said.handed_out(None, 0.0)
    assert said.usage(0.2, oom_killed=True).memory_peak_bytes == 64 * MIB


def test_usage_on_the_wire_in_the_json_log_and_in_words() -> None:
    usage = Usage("warm", 1.23456, 0.41234567, 43 * MIB, False, Limits(512 * MIB, 1.0, 3600.0))
    assert usage.to_wire() == {
        "cpuSeconds": 0.4123,
        "memoryPeakBytes": 43 * MIB,
        "wallSeconds": 1.235,
        "oomKilled": False,
        "start": "warm",
        "limits": {"memoryBytes": 512 * MIB, "cpus": 1.0, "timeoutSeconds": 3600.0},
    }
    assert usage.log_fields() == {
        "cpu_seconds": 0.4123,
        "memory_peak_bytes": 43 * MIB,
        "oom_killed": False,
        "start": "warm",
        "wall_seconds": 1.235,
    }
    assert usage.in_words() == "cpu 0.412 s, peak 43 MiB of 512 MiB"
    unread = Usage("cold", 1.0, None, None, True)
    assert unread.in_words() == "cpu ?, peak ?, OOM-killed"


def test_cgroup_v1_files_of_a_real_container(tmp_path: Path) -> None:
    cgroups = Cgroups(FIXTURES / "cgroup-v1")
    assert cgroups.version == "cgroup v1"
    files = cgroups.find(V1_ID)
    assert isinstance(files, V1Files)
    assert files.read() == Reading(
        cpu_ns=55_648_677, memory_peak_bytes=24_104_960, memory_bytes=24_096_768, oom_kills=0
    )
    assert cgroups.find("f" * 64) is None
    # A container that stopped: its folder is gone, and reading it says so.
    root = tmp_path / "v1"
    shutil.copytree(FIXTURES / "cgroup-v1", root)
    gone = Cgroups(root).find(V1_ID)
    assert gone is not None
    shutil.rmtree(root / "cpuacct" / "docker" / V1_ID)
    assert gone.read() is None


def test_cgroup_v2_files_with_and_without_memory_peak() -> None:
    cgroups = Cgroups(FIXTURES / "cgroup-v2")
    assert cgroups.version == "cgroup v2"
    systemd = cgroups.find(V2_PEAK_ID)  # Docker's systemd driver, kernel 5.19 or later
    assert isinstance(systemd, V2Files)
    assert systemd.read() == Reading(
        cpu_ns=2_047_312_000, memory_peak_bytes=215_142_400, memory_bytes=5_033_984, oom_kills=0
    )
    older = cgroups.find(V2_OLD_ID)  # the cgroupfs driver, a kernel without memory.peak
    assert isinstance(older, V2Files)
    reading = older.read()
    assert reading == Reading(
        cpu_ns=160_221_000, memory_peak_bytes=None, memory_bytes=268_009_472, oom_kills=1
    )
    meter = UsageMeter("cold", Limits(memory_bytes=256 * MIB))
    meter.handed_out(reading, 0.0)
    usage = meter.usage(0.5, oom_killed=False)
    assert usage.oom_killed and usage.memory_peak_bytes == 256 * MIB  # killed at its limit


class _Reader:
    every_s = 0.1

    def __init__(self, readings: list[Reading | Exception | None]) -> None:
        self.readings = readings
        self.reads = 0

    def read(self) -> Reading | None:
        self.reads += 1
        found = self.readings.pop(0) if self.readings else None
        if isinstance(found, Exception):
            raise found
        return found


class _Readers:
    def __init__(self, reader: _Reader | None) -> None:
        self.given = reader

    def reader(self, container_id: str) -> _Reader | None:
        return self.given


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_executors_meter_reads_at_hand_out_each_interval_and_the_terminal_message() -> None:
    reader = _Reader([Reading(cpu_ns=100), Reading(cpu_ns=200), Reading(cpu_ns=900)])
    clock = _Clock()
    meter = Metering(_Readers(reader), clock).meter(ContainerLimits(memory_bytes=MIB), 60.0)
    meter.handed_out("c1", "warm")
    meter.tick(terminal=False)  # too soon
    clock.now = 0.2
    meter.tick(terminal=False)
    clock.now = 0.21
    meter.tick(terminal=True)
    meter.tick(terminal=True)  # once is enough
    assert reader.reads == 3
    usage = meter.usage(0.3, oom_killed=False)
    assert usage is not None and usage.cpu_s == pytest.approx(800e-9)
    assert usage.limits == Limits(MIB, 1.0, 60.0)


def test_a_failing_reader_never_fails_the_task(caplog: pytest.LogCaptureFixture) -> None:
    reader = _Reader([Reading(cpu_ns=5), RuntimeError("boom")])
    clock = _Clock()
    meter = Metering(_Readers(reader), clock).meter(ContainerLimits(), 60.0)
    meter.handed_out("c1", "cold")
    clock.now = 1.0
    with caplog.at_level(logging.ERROR):
        meter.tick(terminal=True)
    assert "reading a task's usage failed" in caplog.text
    usage = meter.usage(1.0, oom_killed=False)
    assert usage is not None and usage.cpu_s == pytest.approx(5e-9)


def test_nothing_is_measured_when_off_or_when_no_container_was_given() -> None:
    assert Metering(None).meter(ContainerLimits(), 1.0) is NO_METER
    assert NO_METER.usage(1.0, oom_killed=True) is None
    meter = Metering(_Readers(None)).meter(ContainerLimits(), 1.0)
    assert meter.usage(1.0, oom_killed=False) is None  # never handed out
    meter.handed_out("c1", "cold")  # no reader for it: no figures, but the flag and time
    usage = meter.usage(1.0, oom_killed=True)
    assert usage is not None and usage.cpu_s is None and usage.oom_killed


def test_usage_source_reads_the_cgroup_files_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = UsageSource("cgroup", FIXTURES / "cgroup-v1")
    with caplog.at_level(logging.INFO):
        assert source.reader(V1_ID) is not None
        assert source.reader(V1_ID) is not None
        assert source.reader("f" * 64) is None
    assert caplog.text.count("read from cgroup v1 files") == 1
    assert "task usage is not measured" in caplog.text


def test_the_json_end_line_has_the_usage_fields() -> None:
    stream = _Lines()
    logger = logging.getLogger("test.usage.endline")
    logger.addHandler(log_handler("json", stream))  # type: ignore[arg-type]
    logger.setLevel(logging.INFO)
    usage = Usage("cold", 2.0, 1.5, 7 * MIB, True)
    logger.info("ended", extra={"xc_fields": usage.log_fields()})
    line = json.loads(stream.text)
    assert line["message"] == "ended"
    assert (line["cpu_seconds"], line["memory_peak_bytes"]) == (1.5, 7 * MIB)
    assert (line["oom_killed"], line["start"], line["wall_seconds"]) == (True, "cold", 2.0)


class _Lines:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


class _Fixed:
    every_s = 0.1

    def read(self) -> Reading:
        return Reading(cpu_ns=250_000_000, memory_peak_bytes=9 * MIB)


class _FixedReaders:
    def reader(self, container_id: str) -> _Fixed:
        return _Fixed()


def test_a_task_types_section_and_what_it_used_reach_its_container_log_and_observer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    container = FakeContainer(
        [[message({"type": "result", "outputs": {"str_out": "a", "nbr_out": "2"}})], None]
    )
    table = PolicyTable(tasks={"sample/double": {"memory_bytes": 64 * MIB}})
    engine, observer = FakeEngine(containers=[container]), RecordingObserver()
    executor = TaskExecutor(
        catalog=CATALOG,
        engine=engine,
        contracts=CONTRACTS,
        statuses=RecordingSink(),
        settings=ExecutionSettings(runner_id="r1", exit_grace_s=0.1, policies=table),
        observer=observer,
        usage=_FixedReaders(),
    )
    with caplog.at_level(logging.INFO, logger="runner.worker.executor"):
        executor.execute(TaskInstance("i1", "sample", "double", {}), threading.Event())
    assert engine.launched[0].limits.memory_bytes == 64 * MIB  # its own section's limit
    [(_, _, usage)] = observer.of("used")
    assert (usage.cpu_s, usage.memory_peak_bytes, usage.start) == (0.25, 9 * MIB, "cold")
    assert usage.limits.memory_bytes == 64 * MIB
    assert "(cold; cpu 0.250 s, peak 9 MiB of 64 MiB)" in caplog.text
