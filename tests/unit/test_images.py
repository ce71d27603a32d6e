"""The served images: catalogs read from image IDs, and read again when a tag moves."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from runner.app.images import ImageWait, ServedImages
from runner.contracts import Contracts
from runner.core.catalog import CATALOG_LABEL, Catalog
from runner.core.errors import ConfigError
from tests.unit.fakes import FakeEngine

IMAGE = "x/task:latest"
OTHER = "x/other:latest"


def label(*names: str, namespace: str = "ns") -> dict[str, str]:
    return {CATALOG_LABEL: json.dumps([{"namespace": namespace, "name": n} for n in names])}


def served(engine: FakeEngine) -> tuple[ServedImages, list[tuple[Catalog, list[str]]]]:
    images = ServedImages([IMAGE, OTHER], engine, Contracts().check_catalog)
    changes: list[tuple[Catalog, list[str]]] = []
    images.on_change = lambda catalog, namespaces: changes.append((catalog, namespaces))
    return images, changes


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(
        ids={IMAGE: "sha256:one", OTHER: "sha256:other"},
        labels={"sha256:one": label("a"), "sha256:other": label("b", namespace="other")},
    )


def test_catalogs_are_read_from_the_image_ids_and_route_by_name(engine: FakeEngine) -> None:
    images, _ = served(engine)
    assert images.ids == {IMAGE: "sha256:one", OTHER: "sha256:other"}
    route = images.catalog.route("ns", "a")
    assert route is not None and route.image == IMAGE


def test_a_moved_tag_brings_its_new_catalog_and_the_namespaces_that_changed(
    engine: FakeEngine,
) -> None:
    images, changes = served(engine)
    engine.labels["sha256:two"] = label("a", "a2")
    images.moved(IMAGE, "sha256:two")
    assert images.ids[IMAGE] == "sha256:two"
    [(catalog, namespaces)] = changes
    assert namespaces == ["ns"]
    assert catalog is images.catalog
    assert catalog.route("ns", "a2") is not None
    assert catalog.route("other", "b") is not None, "the other image's routes were lost"


def test_a_rebuild_with_the_same_catalog_publishes_nothing(engine: FakeEngine) -> None:
    images, changes = served(engine)
    engine.labels["sha256:two"] = label("a")
    images.moved(IMAGE, "sha256:two")
    assert [namespaces for _, namespaces in changes] == [[]]


@pytest.mark.parametrize("bad", [{CATALOG_LABEL: "not json"}, {}, label("b", namespace="other")])
def test_an_unusable_new_catalog_is_reported_and_the_old_one_kept(
    engine: FakeEngine, bad: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    images, changes = served(engine)
    engine.labels["sha256:two"] = bad
    with caplog.at_level(logging.ERROR):
        images.moved(IMAGE, "sha256:two")
    assert changes == []
    assert f"image {IMAGE} changed, but its catalog cannot be read" in caplog.text
    assert images.catalog.route("ns", "a") is not None


def test_a_namespace_declared_or_dropped_by_a_rebuild_is_said_and_published(
    engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    images, changes = served(engine)
    engine.labels["sha256:two"] = label("a", namespace="moved")
    with caplog.at_level(logging.INFO):
        images.moved(IMAGE, "sha256:two")
    [(catalog, namespaces)] = changes
    assert namespaces == ["moved"]
    assert catalog.namespaces == ("moved", "other")
    assert f"image {IMAGE} now declares namespace(s) moved: polling them too" in caplog.text
    assert f"image {IMAGE} no longer declares namespace(s) ns: they are not polled" in caplog.text


class BuildingEngine(FakeEngine):
    """An engine that has only the images in `ids`: the others are still being built."""

    def image_id(self, image: str) -> str:
        if image not in self.ids:
            raise ConfigError(f"image {image} not found in the engine (build it first)")
        return self.ids[image]


def test_an_awaited_image_joins_once_the_engine_has_it(caplog: pytest.LogCaptureFixture) -> None:
    engine = BuildingEngine(ids={IMAGE: "sha256:one"}, labels={"sha256:one": label("a")})
    with caplog.at_level(logging.INFO):
        images = ServedImages([IMAGE, OTHER], engine, Contracts().check_catalog, [OTHER])
    changes: list[tuple[Catalog, list[str]]] = []
    images.on_change = lambda catalog, namespaces: changes.append((catalog, namespaces))
    assert f"image {OTHER} is not in the engine yet: its tasks join once it is" in caplog.text
    assert images.catalog.namespaces == ("ns",) and images.ids == {IMAGE: "sha256:one"}
    assert images.look_for_awaited() is True and changes == []
    engine.ids[OTHER] = "sha256:other"
    engine.labels["sha256:other"] = label("b", namespace="other")
    assert images.look_for_awaited() is False
    [(catalog, namespaces)] = changes
    assert namespaces == ["other"] and catalog.route("other", "b") is not None
    assert images.awaited == [] and images.ids[OTHER] == "sha256:other"


def test_an_awaited_image_whose_catalog_cannot_be_read_is_said_and_not_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = BuildingEngine(ids={}, labels={})
    images = ServedImages([IMAGE], engine, Contracts().check_catalog, [IMAGE])
    engine.ids[IMAGE] = "sha256:bad"
    engine.labels["sha256:bad"] = {CATALOG_LABEL: "not json"}
    with caplog.at_level(logging.ERROR):
        assert images.look_for_awaited() is False
    assert f"image {IMAGE}: its catalog cannot be read" in caplog.text
    assert images.catalog.namespaces == ()


def test_the_wait_looks_in_the_background_until_every_image_joined() -> None:
    engine = BuildingEngine(ids={}, labels={"sha256:one": label("a")})
    images = ServedImages([IMAGE], engine, Contracts().check_catalog, [IMAGE])
    wait = ImageWait(images, every_s=0.01)
    wait.start()
    try:
        engine.ids[IMAGE] = "sha256:one"
        deadline = time.monotonic() + 5
        while images.catalog.route("ns", "a") is None:
            assert time.monotonic() < deadline, "the image did not join"
            time.sleep(0.01)
    finally:
        wait.stop()
