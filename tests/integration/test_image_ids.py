"""Image IDs answered from memory while the engine's image events are followed: against a
real engine, through a proxy that counts the requests and can cut the stream."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import NamedTuple

import docker
import pytest

from runner.core.errors import ConfigError
from runner.engine.docker_engine import DockerEngine
from tests.conftest import until
from tests.integration.engine_faults import FaultyEngine
from tests.integration.faults import DOCKER_SOCKET

pytestmark = pytest.mark.integration

OTHER_IMAGE = "xc-base/debian:bookworm"
INSPECT = r"^/images/.+/json$"



@pytest.fixture
def api(engine: DockerEngine) -> Iterator[docker.APIClient]:
    client = docker.APIClient(base_url=f"unix://{DOCKER_SOCKET}")  # never through the proxy
    yield client
    client.close()


@pytest.fixture
def tag(probe_image: str, api: docker.APIClient) -> Iterator[str]:
    """A tag of the test's own, on the probe image; removed at the end."""
    repository = f"xc-test/speed-ids-{uuid.uuid4().hex[:8]}"
    api.tag(probe_image, repository, "latest")
    yield f"{repository}:latest"
    with contextlib.suppress(docker.errors.NotFound):
        api.remove_image(f"{repository}:latest")


@pytest.fixture
def proxy() -> Iterator[FaultyEngine]:
    with FaultyEngine() as faulty:
        yield faulty


@pytest.fixture
def followed(proxy: FaultyEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[DockerEngine]:
    monkeypatch.setenv("DOCKER_HOST", proxy.url)
    watched = DockerEngine()
    watched.follow_image_events()
    yield watched
    watched.close()


class Scene(NamedTuple):
    followed: DockerEngine  # through the proxy, following the image events
    proxy: FaultyEngine
    tag: str
    engine: DockerEngine  # straight to the engine
    api: docker.APIClient  # straight to the engine


@pytest.fixture
def scene(
    followed: DockerEngine,
    proxy: FaultyEngine,
    tag: str,
    engine: DockerEngine,
    api: docker.APIClient,
) -> Scene:
    return Scene(followed, proxy, tag, engine, api)


def asked(proxy: FaultyEngine) -> int:
    return proxy.count("GET", INSPECT, "forwarded")


def settled(engine: DockerEngine, proxy: FaultyEngine, image: str) -> bool:
    """Whether a look-up of `image` is answered without asking the engine now."""
    engine.image_id(image)
    before = asked(proxy)
    engine.image_id(image)
    return asked(proxy) == before


def test_an_image_id_is_asked_once_and_again_as_soon_as_its_tag_moves(
    scene: Scene,
) -> None:
    followed, proxy, tag, engine, api = scene
    until(lambda: settled(followed, proxy, tag))
    before = asked(proxy)
    assert {followed.image_id(tag) for _ in range(20)} == {engine.image_id(tag)}
    assert asked(proxy) == before

    api.tag(OTHER_IMAGE, repository(tag), "latest")  # a rebuild
    other = engine.image_id(OTHER_IMAGE)
    until(lambda: followed.image_id(tag) == other, timeout_s=5.0)

    api.remove_image(tag)  # untagged: gone
    until(lambda: _missing(followed, tag), timeout_s=5.0)


def test_what_was_known_before_the_stream_broke_is_not_trusted_after(
    scene: Scene,
) -> None:
    followed, proxy, tag, engine, api = scene
    until(lambda: settled(followed, proxy, tag))
    proxy.cut()  # the engine restarts, say: its stream of events breaks
    until(lambda: not followed._image_ids.following)
    api.tag(OTHER_IMAGE, repository(tag), "latest")  # the tag moves meanwhile: no event
    proxy.restore()
    assert followed.image_id(tag) == engine.image_id(OTHER_IMAGE)
    until(lambda: settled(followed, proxy, tag))  # followed again


def _missing(engine: DockerEngine, image: str) -> bool:
    try:
        engine.image_id(image)
    except ConfigError:
        return True
    return False


def repository(image: str) -> str:
    return image.rsplit(":", 1)[0]
