"""Images from a registry, decided without one (runner.core.pulling, runner.core.pullprogress):
image names, digests, what start-up does per pull policy, when to ask again, what to log."""

from __future__ import annotations

import pytest

from runner.core.pulling import (
    DOCKER_HUB,
    ImageRef,
    RegistryWatch,
    Start,
    image_ref,
    is_current,
    local_digest,
    on_start,
    watched,
)
from runner.core.pullprogress import PullProgress

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("debian", ImageRef(DOCKER_HUB, "debian", "latest", None)),
        ("xc-tasks/sample:latest", ImageRef(DOCKER_HUB, "xc-tasks/sample", "latest", None)),
        ("127.0.0.1:5000/t/o:1", ImageRef("127.0.0.1:5000", "127.0.0.1:5000/t/o", "1", None)),
        ("localhost:5000/ocr", ImageRef("localhost:5000", "localhost:5000/ocr", "latest", None)),
        ("localhost/ocr:2", ImageRef("localhost", "localhost/ocr", "2", None)),
        ("reg.example/team/ocr", ImageRef("reg.example", "reg.example/team/ocr", "latest", None)),
        (f"reg.example:443/o@{DIGEST}", ImageRef("reg.example:443", "reg.example:443/o", None, DIGEST)),  # noqa: E501
        (f"ocr:1@{DIGEST}", ImageRef(DOCKER_HUB, "ocr", "1", DIGEST)),
    ],
)
def test_an_image_name_is_read_as_the_docker_cli_reads_it(name: str, ref: ImageRef) -> None:
    assert image_ref(name) == ref
    assert ref.pinned == (ref.digest is not None)


def test_the_local_digest_is_the_one_recorded_for_the_names_repository() -> None:
    digests = [f"127.0.0.1:5000/other@{OTHER}", f"127.0.0.1:5000/team/ocr@{DIGEST}"]
    assert local_digest("127.0.0.1:5000/team/ocr:1.4", digests) == DIGEST
    assert local_digest("127.0.0.1:5000/team/ocr:1.4", []) is None  # built here
    assert local_digest("localhost:5000/team/ocr:1.4", digests) is None  # another name
    # Docker Hub's repositories are shown short: debian, me/x.
    assert local_digest("docker.io/library/debian:12", [f"debian@{DIGEST}"]) == DIGEST
    assert local_digest(f"x/y@{OTHER}", [f"x/y@{DIGEST}"]) == OTHER  # named by digest


def test_a_copy_is_current_when_the_registry_names_a_digest_it_was_pulled_as() -> None:
    name = "reg.example/team/ocr:1"
    assert is_current(name, [f"reg.example/team/ocr@{DIGEST}"], DIGEST)
    assert not is_current(name, [f"reg.example/team/ocr@{DIGEST}"], OTHER)
    assert not is_current(name, [f"reg.example/other@{OTHER}"], OTHER)
    assert not is_current(name, [], DIGEST)


@pytest.mark.parametrize(
    ("policy", "present", "name", "action"),
    [
        ("never", True, "x/y:1", Start.USE),
        ("never", False, "x/y:1", Start.ABSENT),
        ("missing", True, "x/y:1", Start.USE),
        ("missing", False, "x/y:1", Start.PULL),
        ("always", True, "x/y:1", Start.CHECK),
        ("always", False, "x/y:1", Start.PULL),
        ("always", True, f"x/y@{DIGEST}", Start.USE),  # a digest never moves
    ],
)
def test_what_start_up_does_for_each_pull_policy(
    policy: str, present: bool, name: str, action: Start
) -> None:
    assert on_start(policy, present, image_ref(name)) is action


def test_only_tags_pulled_always_are_watched() -> None:
    pairs = [("a:1", "always"), ("b:1", "missing"), ("c:1", "never"), (f"d@{DIGEST}", "always")]
    assert watched(pairs) == ["a:1"]


def test_checks_come_every_interval_and_later_and_later_after_failures_said_once() -> None:
    watch = RegistryWatch(["a:1"], interval_s=10.0, now=0.0, rand=lambda: 0.0)
    assert watch.due(9.9) == [] and watch.wait_s(0.0) == 10.0
    assert watch.due(10.0) == ["a:1"]
    first = watch.failed("a:1", "connection refused", 10.0, "image ID sha256:1")
    assert first is not None
    assert first.startswith("image a:1: cannot check its registry for a new build: connection")
    assert "keep running on image ID sha256:1" in first
    delays = [watch.wait_s(10.0)]
    for now in (20.0, 40.0, 80.0, 160.0, 240.0):
        assert watch.due(now - 0.1) == [] and watch.due(now) == ["a:1"]
        assert watch.failed("a:1", "connection refused", now, "x") is None  # said once
        delays.append(watch.wait_s(now))
    assert delays == [10.0, 20.0, 40.0, 80.0, 80.0, 80.0]  # doubling, up to 8 intervals
    assert watch.succeeded("a:1", 320.0) == (
        "image a:1: its registry answers again (after 6 failed check(s))"
    )
    assert watch.wait_s(320.0) == 10.0
    assert watch.succeeded("a:1", 330.0) is None
    assert watch.failed("a:1", "again", 340.0, "x") is not None  # a new run of failures


def test_each_image_has_its_own_schedule() -> None:
    watch = RegistryWatch(["a:1", "b:1"], interval_s=10.0, now=0.0, rand=lambda: 0.0)
    watch.failed("a:1", "down", 10.0, "x")
    watch.succeeded("b:1", 10.0)
    assert watch.due(20.0) == ["a:1", "b:1"]
    watch.failed("a:1", "down", 20.0, "x")
    watch.succeeded("b:1", 20.0)
    assert watch.due(30.0) == ["b:1"] and watch.wait_s(30.0) == 0.0


def test_nothing_watched_waits_a_whole_interval() -> None:
    assert RegistryWatch([], interval_s=5.0, now=0.0).wait_s(0.0) == 5.0


def test_a_pulls_progress_is_a_line_every_few_seconds_and_one_at_the_end() -> None:
    progress = PullProgress("r/x:1", started=0.0, every_s=2.0)
    assert progress.feed({"status": "Pulling from r/x", "id": "1"}, 0.1) is None
    assert progress.feed({"status": "Already exists", "id": "l1"}, 0.2) is None
    assert progress.feed({"status": "Pulling fs layer", "id": "l2"}, 0.3) is None
    detail = {"current": 1_500_000, "total": 3_000_000}
    line = progress.feed({"status": "Downloading", "id": "l2", "progressDetail": detail}, 2.5)
    assert line == "pulling r/x:1: 1 of 2 layer(s) done, 1.5 of 3.0 MB downloaded"
    assert progress.feed({"status": "Download complete", "id": "l2"}, 3.0) is None
    assert progress.feed({"status": "Pull complete", "id": "l2"}, 3.1) is None
    assert progress.feed({"status": f"Digest: {DIGEST}"}, 3.2) is None
    assert progress.feed({"status": "Status: Downloaded newer image for r/x:1"}, 3.3) is None
    assert progress.digest == DIGEST and progress.error is None
    assert progress.finished(4.0) == (
        f"pulled r/x:1 (digest {DIGEST}) in 4.0 s: 1 new layer(s) of 2, 3.0 MB"
    )


def test_a_pull_of_what_is_here_already_and_a_pull_that_fails() -> None:
    here = PullProgress("r/x:1", started=0.0)
    here.feed({"status": f"Digest: {DIGEST}"}, 0.1)
    here.feed({"status": "Status: Image is up to date for r/x:1"}, 0.1)
    assert here.finished(0.5) == f"r/x:1 is up to date (digest {DIGEST}), checked in 0.5 s"
    failed = PullProgress("r/x:1", started=0.0)
    failed.feed({"error": "short", "errorDetail": {"message": "unauthorized: go away"}}, 0.1)
    assert failed.error == "unauthorized: go away"
