"""Image IDs answered from memory while the engine's image events are followed.

Which image a tag names is asked at every hand-out (a rebuilt or pulled image is used by
the very next task), and asking the engine is a request on the task's path. The engine
says when any image changes (tagged, untagged, pulled, loaded, imported, deleted): while
its stream of image events is followed, an image ID once read is kept, and every one is
forgotten at each such event, so the next hand-out reads it again. Whenever the stream
is not followed (not started yet, broken, the engine restarting), nothing is kept: each
look-up asks the engine, as if there were no stream. A look-up that an event overtook is
not kept either. An ID is kept KEEP_S at most, so that a stream that died without a word
(a remote engine behind a dropped connection) cannot keep an old ID for long: the warm
pool's own check of its tags, every 2 s, is the look-up that usually asks again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from runner.core.errors import EngineError

log = logging.getLogger(__name__)

_RECONNECT_S = 1.0  # after the stream broke, before it is opened again
KEEP_S = 30.0  # an ID is asked again after this, events or not
# Events that leave every tag where it was.
_HARMLESS = frozenset({"save", "push"})


class EventStream(Iterable[str], Protocol):
    """The engine's image events as they happen (each one's action: `tag`, `delete`...);
    EngineError when the stream breaks. `close()` from another thread ends it."""

    def close(self) -> None: ...


class ImageIds:
    """`image_id` from any thread; `start()` follows the events, `close()` stops."""

    def __init__(
        self,
        inspect: Callable[[str], str],
        events: Callable[[], EventStream],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inspect = inspect
        self._events = events
        self._clock = clock
        self._ids: dict[str, tuple[str, float]] = {}  # image -> (its ID, when it was read)
        self._generation = 0  # counts forgettings: a look-up overtaken by one is not kept
        self._following = False
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._stream: EventStream | None = None
        self._thread = threading.Thread(target=self._run, name="image-events", daemon=True)

    def image_id(self, image: str) -> str:
        """The ID of the image `image` names now."""
        with self._lock:
            known = self._ids.get(image)
            generation = self._generation
        if known is not None and self._clock() - known[1] < KEEP_S:
            return known[0]
        read_at = self._clock()
        image_id = self._inspect(image)
        with self._lock:
            if self._following and generation == self._generation:
                self._ids[image] = (image_id, read_at)
        return image_id

    @property
    def following(self) -> bool:
        """Whether the events are followed now (image IDs are kept)."""
        return self._following

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def _forget(self, *, following: bool) -> None:
        with self._lock:
            self._ids.clear()
            self._generation += 1
            self._following = following

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self._follow()
            except EngineError as exc:
                log.debug("image events: %s; image IDs are asked of the engine meanwhile", exc)
            except Exception:  # a bug must not leave a stale cache trusted
                log.exception("image events: unexpected error")
            self._forget(following=False)
            self._closed.wait(_RECONNECT_S)

    def _follow(self) -> None:
        stream = self._events()
        with self._lock:
            self._stream = stream
        try:
            if self._closed.is_set():
                return
            self._forget(following=True)  # what changed before the stream opened is not known
            for action in stream:
                if action not in _HARMLESS:
                    self._forget(following=True)
        finally:
            with self._lock:
                self._stream = None
            stream.close()


class _Stream(Iterable[Mapping[str, object]], Protocol):
    def close(self) -> None: ...


class Actions:
    """An engine's stream of decoded events (`close()` ends it) as their actions, read inside
    `guard`, which turns the stream's errors into EngineError."""

    def __init__(
        self,
        stream: _Stream,
        guard: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._stream = stream
        self._guard = guard

    def __iter__(self) -> Iterator[str]:
        with self._guard():
            for event in self._stream:
                yield str(event.get("Action", ""))

    def close(self) -> None:
        with contextlib.suppress(EngineError), self._guard():
            self._stream.close()
