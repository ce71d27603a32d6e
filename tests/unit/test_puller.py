"""The image puller (runner.app.pulling) on a fake registry and a fake engine: what start-up
pulls or refuses for each policy, and the background checks (a new build pulled and handed
on, a registry that stops answering said once); and the served images' digests."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from runner.app.images import ServedImages
from runner.app.pulling import ImagePuller
from runner.contracts import Contracts
from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import ConfigError, RegistryError
from tests.unit.fakes import FakeEngine
from tests.unit.test_pool import eventually

IMAGE = "reg.example/team/ocr:1"
ONE = "sha256:" + "1" * 64
TWO = "sha256:" + "2" * 64


@dataclass
class Registry:
    """A registry whose tag names `digest`; a pull makes the engine's tag name it."""

    engine: FakeEngine
    digest: str = ONE
    trouble: RegistryError | None = None
    pulls: list[str] = field(default_factory=list)
    asked: threading.Event = field(default_factory=threading.Event)

    def remote_digest(self, image: str) -> str:
        self.asked.set()
        if self.trouble is not None:
            raise self.trouble
        return self.digest

    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None:
        if self.trouble is not None:
            raise self.trouble
        on_event({"status": "Pulling fs layer", "id": "l1"})
        on_event({"status": "Pull complete", "id": "l1"})
        on_event({"status": f"Digest: {self.digest}"})
        self.pulls.append(image)
        image_id = f"id-{self.digest[-4:]}"
        self.engine.ids[image] = image_id
        self.engine.digests[image_id] = [f"reg.example/team/ocr@{self.digest}"]


class Engine(FakeEngine):
    def image_id(self, image: str) -> str:
        if image not in self.ids:
            raise ConfigError(f"image {image} not found in the engine (build it first)")
        return self.ids[image]

    def image_digests(self, image: str) -> list[str]:
        return self.digests.get(self.ids.get(image, image), [])


ABSENT = f"image {IMAGE} not found in the engine, and it cannot be pulled"
REFUSED = RegistryError("registry reg.example refused to serve image ...", kind="refused")
DOWN = RegistryError("cannot reach registry reg.example for image ...", kind="unreachable")


def setup(policy: str, *, present: str | None = None) -> tuple[Engine, Registry, ImagePuller]:
    engine = Engine()
    registry = Registry(engine)
    if present is not None:  # the engine has the build of this digest
        engine.ids[IMAGE] = f"id-{present[-4:]}"
        engine.digests[engine.ids[IMAGE]] = [f"reg.example/team/ocr@{present}"]
    return engine, registry, ImagePuller(registry, engine, {IMAGE: policy}, interval_s=0.01)


def test_missing_pulls_what_the_engine_lacks_and_logs_its_progress(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, registry, puller = setup("missing")
    with caplog.at_level(logging.INFO):
        puller.prepare()
    assert registry.pulls == [IMAGE]
    assert f"pulling image {IMAGE} from reg.example" in caplog.text
    assert f"pulled {IMAGE} (digest {ONE})" in caplog.text
    _, registry2, puller2 = setup("missing", present=ONE)
    puller2.prepare()
    assert registry2.pulls == [] and not registry2.asked.is_set()


def test_always_pulls_a_build_the_registry_has_and_the_engine_lacks() -> None:
    _, registry, puller = setup("always", present=ONE)
    puller.prepare()
    assert registry.pulls == []
    registry.digest = TWO
    puller.prepare()
    assert registry.pulls == [IMAGE]


@pytest.mark.parametrize(
    ("policy", "present", "trouble", "problem"),
    [
        ("never", None, None, f"image {IMAGE} not found in the engine (build it or pull it"),
        ("missing", None, REFUSED, f"{ABSENT}: registry reg.example refused"),
        ("missing", None, DOWN, f"{ABSENT}: cannot reach registry"),
        ("always", ONE, REFUSED, "registry reg.example refused"),
    ],
)
def test_start_up_stops_when_an_image_cannot_be_had_or_credentials_are_refused(
    policy: str, present: str | None, trouble: RegistryError | None, problem: str
) -> None:
    _, registry, puller = setup(policy, present=present)
    registry.trouble = trouble
    with pytest.raises(ConfigError, match=f"^{re.escape(problem)}"):
        puller.prepare()


def test_always_serves_the_engines_build_when_its_registry_does_not_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, registry, puller = setup("always", present=ONE)
    registry.trouble = DOWN
    puller.prepare()
    assert "serving the build the engine has until it answers" in caplog.text


def test_a_new_build_is_pulled_in_the_background_and_handed_on() -> None:
    _, registry, puller = setup("always", present=ONE)
    pulled = threading.Event()
    puller.on_pulled = lambda image: pulled.set()
    puller.prepare()
    registry.digest = TWO
    puller.start()
    try:
        assert pulled.wait(10), "the new build was not pulled"
        assert registry.pulls == [IMAGE]
    finally:
        puller.stop()


def test_a_registry_that_stops_answering_is_said_once_then_its_return(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, registry, puller = setup("always", present=ONE)
    puller.serving = lambda image: "image ID id-1111"
    registry.trouble = DOWN
    with caplog.at_level(logging.DEBUG, logger="runner.app.pulling"):
        puller.start()
        try:
            eventually(lambda: caplog.text.count("still cannot be asked") >= 2, "more checks")
            registry.trouble = None
            eventually(lambda: "answers again" in caplog.text, "the recovery said")
        finally:
            puller.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"image {IMAGE}: cannot check its registry for a new build")
    assert "keep running on image ID id-1111" in warnings[0]


def test_only_always_images_start_a_background_check() -> None:
    _, _, puller = setup("missing", present=ONE)
    puller.start()
    puller.stop()
    assert not puller._thread.is_alive() and puller._thread.ident is None


def served_images() -> tuple[Engine, ServedImages]:
    engine = Engine(ids={IMAGE: "id-1"}, digests={"id-1": [f"reg.example/team/ocr@{ONE}"]})
    label = {CATALOG_LABEL: '[{"namespace": "ocr", "name": "read"}]'}
    engine.labels = {"id-1": label, "id-2": label}
    return engine, ServedImages([IMAGE], engine, Contracts().check_catalog)


def test_the_served_images_know_each_ones_id_and_digest_and_follow_a_pull() -> None:
    engine, images = served_images()
    assert images.served() == [{"image": IMAGE, "imageId": "id-1", "digest": ONE}]
    assert images.describe(IMAGE) == f"image ID id-1, digest {ONE}"
    changes: list[list[str]] = []
    images.on_change = lambda catalog, namespaces: changes.append(namespaces)
    engine.ids[IMAGE] = "id-2"
    engine.digests["id-2"] = [f"reg.example/team/ocr@{TWO}"]
    images.refresh(IMAGE)
    assert images.served() == [{"image": IMAGE, "imageId": "id-2", "digest": TWO}]
    images.moved(IMAGE, "id-2")  # the warm pool says so too, later: nothing more happens
    assert changes == [[]]


@pytest.mark.parametrize("policy", ["missing", "always"])
def test_an_image_gone_from_the_engine_is_pulled_again_and_handed_on(policy: str) -> None:
    engine, registry, puller = setup(policy, present=ONE)
    pulled: list[str] = []
    puller.on_pulled = pulled.append
    assert puller.recover(IMAGE) and registry.pulls == []  # still there: nothing to do
    del engine.ids[IMAGE]  # an image prune
    assert puller.recover(IMAGE)
    assert registry.pulls == [IMAGE] and pulled == [IMAGE]


def test_under_never_an_image_gone_is_waited_for_not_pulled() -> None:
    engine, registry, puller = setup("never", present=ONE)
    del engine.ids[IMAGE]
    assert not puller.recover(IMAGE) and registry.pulls == []
    engine.ids[IMAGE] = "id-rebuilt"  # rebuilt or re-tagged by hand
    assert puller.recover(IMAGE)


def test_a_failed_repull_waits_longer_each_time_and_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, registry, puller = setup("missing", present=ONE)
    now = [0.0]
    puller = ImagePuller(registry, engine, {IMAGE: "missing"}, interval_s=60, clock=lambda: now[0])
    del engine.ids[IMAGE]
    registry.trouble = DOWN
    tried = []
    for second in range(0, 40):
        now[0] = float(second)
        before = len(caplog.records)
        puller.recover(IMAGE)
        if any("pulling it again" in r.getMessage() for r in caplog.records[before:]):
            tried.append(second)
    assert tried == [0, 5, 15, 35]  # then 5 s, 10 s, 20 s later
    said = [r.getMessage() for r in caplog.records if "pulling it again failed" in r.getMessage()]
    assert len(said) == 1
    registry.trouble = None
    now[0] = 100.0
    assert puller.recover(IMAGE) and registry.pulls == [IMAGE]


def test_the_periodic_check_of_always_pulls_an_image_gone_from_the_engine(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, _, puller = setup("always", present=ONE)
    pulled: list[str] = []
    puller.on_pulled = pulled.append
    del engine.ids[IMAGE]
    puller.start()
    try:
        eventually(lambda: pulled == [IMAGE], "the image pulled again")
    finally:
        puller.stop()
    assert "cannot check its registry" not in caplog.text
