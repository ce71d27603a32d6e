"""Image IDs from memory while the engine's image events are followed (fake engine)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import pytest

from runner.core.errors import EngineError
from runner.engine.imageids import KEEP_S, Actions, ImageIds
from tests.conftest import until


class Events:
    """A fake event stream: actions put in arrive in order; None ends it; an error breaks it."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[str | Exception | None] = queue.SimpleQueue()
        self.taken = 0  # items the reader took and acted on (it waits for the next one)
        self.waiting = threading.Event()

    def put(self, item: str | Exception | None) -> None:
        self._queue.put(item)

    def __iter__(self) -> Iterator[str]:
        while True:
            self.waiting.set()
            item = self._queue.get()
            self.waiting.clear()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
            self.taken += 1

    def acted_on(self, count: int) -> bool:
        return self.taken >= count and self.waiting.is_set()

    def close(self) -> None:
        self._queue.put(None)


class Engine:
    """Answers what each tag names now, counting the questions; opens event streams."""

    def __init__(self) -> None:
        self.tags = {"app:latest": "sha256:one"}
        self.asked = 0
        self.streams: list[Events] = []
        self.refuse_streams = False
        self.on_inspect: Callable[[], None] = lambda: None

    def inspect(self, image: str) -> str:
        self.asked += 1
        self.on_inspect()
        return self.tags[image]

    def events(self) -> Events:
        if self.refuse_streams:
            raise EngineError("cannot follow the engine's image events: refused")
        stream = Events()
        self.streams.append(stream)
        return stream



@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def ids(engine: Engine) -> Iterator[ImageIds]:
    image_ids = ImageIds(engine.inspect, engine.events)
    yield image_ids
    image_ids.close()


def followed(ids: ImageIds) -> ImageIds:
    ids.start()
    until(lambda: ids.following)
    return ids


def test_without_the_events_every_look_up_asks_the_engine(engine: Engine, ids: ImageIds) -> None:
    assert ids.image_id("app:latest") == ids.image_id("app:latest") == "sha256:one"
    assert engine.asked == 2


def test_while_followed_an_image_id_is_asked_once(engine: Engine, ids: ImageIds) -> None:
    followed(ids)
    assert [ids.image_id("app:latest") for _ in range(3)] == ["sha256:one"] * 3
    assert engine.asked == 1


def test_any_image_event_makes_the_next_look_up_ask_again(engine: Engine, ids: ImageIds) -> None:
    followed(ids)
    ids.image_id("app:latest")
    engine.tags["app:latest"] = "sha256:two"
    engine.streams[-1].put("tag")
    until(lambda: ids.image_id("app:latest") == "sha256:two")
    assert ids.image_id("app:latest") == "sha256:two"
    asked = engine.asked
    engine.streams[-1].put("save")  # changes no tag: what is known stays
    engine.streams[-1].put("push")
    ids.image_id("app:latest")
    assert engine.asked == asked


def test_a_broken_stream_means_asking_until_it_is_followed_again(
    engine: Engine, ids: ImageIds
) -> None:
    followed(ids)
    ids.image_id("app:latest")
    engine.refuse_streams = True
    engine.streams[-1].put(EngineError("the engine's image events stopped: EOF"))
    until(lambda: not ids.following)
    engine.tags["app:latest"] = "sha256:two"
    asked = engine.asked
    assert ids.image_id("app:latest") == ids.image_id("app:latest") == "sha256:two"
    assert engine.asked == asked + 2
    engine.refuse_streams = False
    until(lambda: ids.following, timeout_s=5.0)
    ids.image_id("app:latest")
    asked = engine.asked
    assert ids.image_id("app:latest") == "sha256:two"
    assert engine.asked == asked


def test_a_look_up_overtaken_by_an_event_is_not_kept(engine: Engine, ids: ImageIds) -> None:
    followed(ids)
    stream = engine.streams[-1]

    def tag_moves_meanwhile() -> None:  # the engine answers the old ID, then the tag moves
        engine.on_inspect = lambda: None
        stream.put("tag")
        until(lambda: stream.acted_on(1))

    engine.on_inspect = tag_moves_meanwhile
    assert ids.image_id("app:latest") == "sha256:one"
    engine.tags["app:latest"] = "sha256:two"
    assert ids.image_id("app:latest") == "sha256:two"


def test_close_ends_the_stream_and_the_thread(engine: Engine, ids: ImageIds) -> None:
    followed(ids)
    ids.close()
    assert not any(t.name == "image-events" and t.is_alive() for t in threading.enumerate())


def test_actions_are_read_inside_the_guard_and_closing_never_raises() -> None:
    class Broken:
        def __iter__(self) -> Iterator[dict[str, object]]:
            yield {"Action": "tag"}
            raise OSError("connection reset")

        def close(self) -> None:
            raise OSError("already closed")

    class Guard:
        def __enter__(self) -> None:
            return None

        def __exit__(self, kind: object, exc: object, tb: object) -> None:
            if isinstance(exc, OSError):
                raise EngineError(f"events: {exc}")

    actions = Actions(Broken(), Guard)
    reader = iter(actions)
    assert next(reader) == "tag"
    with pytest.raises(EngineError, match="connection reset"):
        next(reader)
    actions.close()


def test_an_id_is_asked_again_after_a_while_even_without_an_event(engine: Engine) -> None:
    now = [0.0]
    ids = ImageIds(engine.inspect, engine.events, clock=lambda: now[0])
    try:
        followed(ids)
        ids.image_id("app:latest")
        now[0] = KEEP_S - 1
        ids.image_id("app:latest")
        assert engine.asked == 1
        engine.tags["app:latest"] = "sha256:two"  # the stream died without a word, say
        now[0] = KEEP_S + 1
        assert ids.image_id("app:latest") == "sha256:two"
        assert engine.asked == 2
    finally:
        ids.close()
