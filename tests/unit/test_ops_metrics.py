"""The metrics as Prometheus scrapes them: names, types, labels, values."""

from __future__ import annotations

import platform
import re
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from runner.core.model import ERROR_REASONS, TaskInstance, fault_of
from runner.ops.metrics import DURATION_BUCKETS_S, UNKNOWN, Metrics

TASKS = [("sample", "double"), ("sample", "simple"), ("textstats", "word_count")]
IMAGES = ["xc-tasks/sample:latest", "xc-tasks/textstats-node:latest"]
LABELS = {
    *("namespace", "task", "status", "start", "result", "image", "le"),
    *("reason", "fault", "version", "python"),
}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def metrics(clock: Clock | None = None) -> Metrics:
    return Metrics(TASKS, images=IMAGES, slots=4, version="9.9.9", clock=clock or Clock())


def value(m: Metrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def scrape(m: Metrics) -> str:
    return generate_latest(m.registry).decode()


def run(
    m: Metrics,
    instance: TaskInstance,
    status: str = "Completed",
    took: float = 0.2,
    reason: str | None = None,
) -> None:
    m.task_started(instance)
    why = reason or ("task" if status == "Error" else None)
    m.task_ended(instance, status, took, "cold", why)  # type: ignore[arg-type]


def test_every_metric_is_there_with_its_type_before_anything_happened() -> None:
    families = {f.name: f.type for f in text_string_to_metric_families(scrape(metrics()))}
    assert {name: kind for name, kind in families.items() if name.startswith("xc_")} == {
        "xc_runner_tasks": "counter",
        "xc_runner_task_duration_seconds": "histogram",
        "xc_runner_tasks_running": "gauge",
        "xc_runner_slots": "gauge",
        "xc_runner_outbox_pending": "gauge",
        "xc_runner_polls": "counter",
        "xc_runner_platform_errors": "counter",
        "xc_runner_engine_up": "gauge",
        "xc_runner_pool_idle_containers": "gauge",
        "xc_runner_task_errors": "counter",
        "xc_runner_build_info": "gauge",
        "xc_runner_ready": "gauge",
        "xc_runner_image_available": "gauge",
        "xc_runner_task_cpu_seconds": "histogram",
        "xc_runner_task_memory_peak_bytes": "histogram",
        "xc_runner_task_oom_kills": "counter",
    }
    assert "process_resident_memory_bytes" in families


def test_a_tasks_series_appear_at_zero_once_it_first_ran_and_no_created_series() -> None:
    m = metrics()
    assert value(m, "xc_runner_slots") == 4
    assert "namespace=" not in scrape(m)  # nothing ran: no task's series, whatever the catalog
    for namespace, task in TASKS:
        m.task_ended(TaskInstance("x", namespace, task), "Completed", 0.1, "cold", None)
        assert value(m, "xc_runner_task_oom_kills_total", namespace=namespace, task=task) == 0
        assert value(m, "xc_runner_task_cpu_seconds_count", namespace=namespace, task=task) == 0
        for status in ("Completed", "Error"):
            for start in ("warm", "cold", "none"):
                labels = {"namespace": namespace, "task": task, "status": status, "start": start}
                ran = (status, start) == ("Completed", "cold")
                assert value(m, "xc_runner_tasks_total", **labels) == (1 if ran else 0)
        for reason in ERROR_REASONS:
            labels = {"namespace": namespace, "task": task, "reason": reason}
            assert value(m, "xc_runner_task_errors_total", fault=fault_of(reason), **labels) == 0
        count = value(m, "xc_runner_task_duration_seconds_count", namespace=namespace, task=task)
        assert count == 1
    for result in ("task", "empty", "error"):
        assert value(m, "xc_runner_polls_total", result=result) == 0
    assert value(m, "xc_runner_platform_errors_total") == 0
    for image in IMAGES:
        assert value(m, "xc_runner_pool_idle_containers", image=image) == 0
    assert "_created" not in scrape(m)


def test_ended_tasks_are_counted_by_status_and_start_and_timed() -> None:
    m = metrics()
    run(m, TaskInstance("a", "sample", "double"), "Completed", 0.004)
    run(m, TaskInstance("b", "sample", "double"), "Completed", 7.0)
    run(m, TaskInstance("c", "sample", "double"), "Error", 0.3)
    m.task_started(TaskInstance("d", "sample", "simple"))
    m.task_ended(TaskInstance("d", "sample", "simple"), "Completed", 0.5, "warm", None)

    def total(task: str, status: str, start: str) -> float | None:
        labels = {"namespace": "sample", "task": task, "status": status, "start": start}
        return value(m, "xc_runner_tasks_total", **labels)

    assert total("double", "Completed", "cold") == 2
    assert total("double", "Error", "cold") == 1
    assert total("double", "Completed", "warm") == 0
    assert total("simple", "Completed", "warm") == 1
    double = {"namespace": "sample", "task": "double"}
    assert value(m, "xc_runner_task_duration_seconds_count", **double) == 3
    assert value(m, "xc_runner_task_duration_seconds_sum", **double) == pytest.approx(7.304)
    assert value(m, "xc_runner_task_duration_seconds_bucket", le="0.005", **double) == 1
    assert value(m, "xc_runner_task_duration_seconds_bucket", le="5.0", **double) == 2
    assert value(m, "xc_runner_task_duration_seconds_bucket", le="10.0", **double) == 3


def test_duration_buckets_go_from_milliseconds_to_an_hour() -> None:
    assert DURATION_BUCKETS_S[0] == 0.005
    assert DURATION_BUCKETS_S[-1] == 3600
    assert list(DURATION_BUCKETS_S) == sorted(set(DURATION_BUCKETS_S))


def test_tasks_the_catalog_lacks_share_one_label_value_whatever_the_platform_sends() -> None:
    m = metrics()
    for i in range(50):
        run(m, TaskInstance(f"x{i}", "sample", f"made_up_{i}"), "Error")
        run(m, TaskInstance(f"y{i}", f"ns_{i}", "double"), "Error")
    assert m.labels("sample", "made_up_1") == ("sample", UNKNOWN)
    assert m.labels("elsewhere", "double") == (UNKNOWN, UNKNOWN)
    unknown = {"task": UNKNOWN, "status": "Error", "start": "cold"}
    assert value(m, "xc_runner_tasks_total", namespace="sample", **unknown) == 50
    assert value(m, "xc_runner_tasks_total", namespace=UNKNOWN, **unknown) == 50
    text = scrape(m)
    assert "made_up" not in text and "ns_1" not in text


def test_no_instance_id_is_ever_a_label() -> None:
    m = metrics()
    m.task_started(TaskInstance("5d1c0ffee-instance", "sample", "double"))
    run(m, TaskInstance("another-instance-id", "sample", "double"))
    text = scrape(m)
    assert "5d1c0ffee" not in text and "another-instance-id" not in text


def test_running_tasks_are_a_gauge_and_a_list_with_their_age() -> None:
    clock = Clock()
    m = metrics(clock)
    m.task_started(TaskInstance("a", "sample", "double"))
    clock.now += 2
    m.task_started(TaskInstance(7, "textstats", "word_count"))
    clock.now += 1.5
    assert value(m, "xc_runner_tasks_running") == 2
    running = m.running()
    assert [(r.instance_id, r.namespace, r.task) for r in running] == [
        ("a", "sample", "double"),
        ("7", "textstats", "word_count"),
    ]
    assert [m.age_s(r) for r in running] == [3.5, 1.5]
    m.task_ended(TaskInstance("a", "sample", "double"), "Completed", 3.5, "cold", None)
    assert value(m, "xc_runner_tasks_running") == 1
    assert [r.instance_id for r in m.running()] == ["7"]


def test_polls_platform_errors_and_pool() -> None:
    m = metrics()
    for result in ("task", "empty", "empty", "error"):
        m.polled(result)
    m.platform_error()
    m.platform_error()
    m.pool_idle("xc-tasks/sample:latest", 3)
    m.pool_idle("someone/else:1", 9)
    assert value(m, "xc_runner_polls_total", result="task") == 1
    assert value(m, "xc_runner_polls_total", result="empty") == 2
    assert value(m, "xc_runner_polls_total", result="error") == 1
    assert value(m, "xc_runner_platform_errors_total") == 2
    assert value(m, "xc_runner_pool_idle_containers", image="xc-tasks/sample:latest") == 3
    assert value(m, "xc_runner_pool_idle_containers", image=UNKNOWN) == 9


def test_outbox_engine_readiness_and_image_gauges_are_read_when_scraped() -> None:
    m = metrics()
    state: dict[str, Any] = {"pending": 0, "up": True, "ready": True, "missing": set()}
    m.watch(
        outbox_pending=lambda: state["pending"],
        engine_up=lambda: bool(state["up"]),
        ready=lambda: bool(state["ready"]),
        image_up=lambda image: image not in state["missing"],
    )
    assert value(m, "xc_runner_outbox_pending") == 0
    assert value(m, "xc_runner_engine_up") == 1
    assert value(m, "xc_runner_ready") == 1
    assert [value(m, "xc_runner_image_available", image=image) for image in IMAGES] == [1, 1]
    state.update(pending=12, up=False, ready=False, missing={IMAGES[1]})
    assert value(m, "xc_runner_outbox_pending") == 12
    assert value(m, "xc_runner_engine_up") == 0
    assert value(m, "xc_runner_ready") == 0
    assert [value(m, "xc_runner_image_available", image=image) for image in IMAGES] == [1, 0]


def test_errors_are_counted_by_reason_and_whose_fault_it_was() -> None:
    m = metrics()
    run(m, TaskInstance("a", "sample", "double"), "Error", reason="timeout")
    run(m, TaskInstance("b", "sample", "double"), "Error", reason="engine")
    run(m, TaskInstance("c", "sample", "double"), "Error", reason="engine")
    run(m, TaskInstance("d", "sample", "double"), "Error", reason="cancelled")
    run(m, TaskInstance("e", "sample", "double"), "Completed")

    def errors(reason: str, fault: str) -> float | None:
        labels = {"namespace": "sample", "task": "double", "reason": reason, "fault": fault}
        return value(m, "xc_runner_task_errors_total", **labels)

    assert errors("timeout", "task") == 1
    assert errors("engine", "runner") == 2
    assert errors("cancelled", "user") == 1
    assert sum(errors(r, fault_of(r)) or 0 for r in ERROR_REASONS) == 4


def test_a_task_that_got_no_container_is_not_a_cold_start() -> None:
    m = metrics()
    instance = TaskInstance("a", "sample", "double")
    m.task_started(instance)
    m.task_ended(instance, "Error", 0.01, "none", "input")
    labels = {"namespace": "sample", "task": "double", "status": "Error"}
    assert value(m, "xc_runner_tasks_total", start="none", **labels) == 1
    assert value(m, "xc_runner_tasks_total", start="cold", **labels) == 0


def test_build_info_names_the_version() -> None:
    m = metrics()
    assert 'xc_runner_build_info{python="' in scrape(m)
    assert value(m, "xc_runner_build_info", version="9.9.9", python=platform.python_version()) == 1


def test_names_follow_prometheus_conventions() -> None:
    for family in text_string_to_metric_families(scrape(metrics())):
        if not family.name.startswith("xc_"):
            continue
        assert re.fullmatch(r"xc_runner_[a-z_]+", family.name), family.name
        for sample in family.samples:
            if family.type == "counter":
                assert sample.name == family.name + "_total"
            assert set(sample.labels) <= LABELS
