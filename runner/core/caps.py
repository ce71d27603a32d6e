"""How many tasks of a type, and of an image, may run at once on this runner (`max_running`),
and which task types to poll so that the runner never takes a task it cannot start.

The platform's poll hands out any task of a namespace unless it is asked for one task type
by name. So while nothing of a namespace is at its cap, the namespace is polled whole (one
request, as without caps); once a task type of it is at its cap (or its image is), its
other task types are polled by name, at most NAMED_POLLS a round and in turn, and the
capped one is not polled at all: its tasks stay queued for another runner. Only the poll
loop takes tasks, and a running task's end only frees room, so a poll planned here can
never hand out a task over a cap.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from runner.core.catalog import TaskRoute

NAMED_POLLS = 20  # task types polled by name in one round of a namespace, at most


@dataclass(frozen=True)
class Caps:
    """`max_running` per task type ("NAMESPACE/TASK") and per image (its name as served)."""

    tasks: Mapping[str, int] = field(default_factory=dict)
    images: Mapping[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tasks or self.images)

    def claims(self, routes: Iterable[TaskRoute] = ()) -> Claims:
        """Who counts what runs under these caps."""
        return Claims(self, routes)


def task_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


class Claims:
    """The running count of each capped task type and image; thread-safe (tasks end on their
    own threads). `routes`: every task of the catalog (which image runs it)."""

    def __init__(self, caps: Caps, routes: Iterable[TaskRoute] = ()) -> None:
        self._caps = caps
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()  # task keys and images
        self._next: Counter[str] = Counter()  # per namespace: where its named polls resume
        self.use_routes(routes)

    def use_routes(self, routes: Iterable[TaskRoute]) -> None:
        """The catalog as it is now (an image's catalog changed)."""
        names: dict[str, list[str]] = {}
        images: dict[str, str] = {}
        for route in routes:
            names.setdefault(route.namespace, []).append(route.name)
            images[task_key(route.namespace, route.name)] = route.image
        with self._lock:
            self._names = {ns: tuple(sorted(found)) for ns, found in names.items()}
            self._images = images

    def _full(self, key: str) -> bool:
        cap = self._caps.tasks.get(key)
        if cap is not None and self._running[key] >= cap:
            return True
        image = self._images.get(key)
        cap = self._caps.images.get(image) if image is not None else None
        return cap is not None and self._running[image or ""] >= cap

    def names(self, namespace: str) -> tuple[str, ...] | None:
        """None: poll the namespace whole; else the task types to poll by name this round
        (none: every one is at its cap)."""
        if not self._caps:
            return None
        with self._lock:
            names = self._names.get(namespace, ())
            full = [n for n in names if self._full(task_key(namespace, n))]
            if not full:
                return None
            open_names = [n for n in names if n not in full]
            if len(open_names) <= NAMED_POLLS:
                return tuple(open_names)
            start = self._next[namespace] % len(open_names)
            self._next[namespace] = start + NAMED_POLLS
            turn = (open_names[start:] + open_names[:start])[:NAMED_POLLS]
            return tuple(turn)

    def taken(self, namespace: str, name: str) -> None:
        """A task of this type was taken (before it starts)."""
        if self._caps:
            with self._lock:
                self._count(task_key(namespace, name), +1)

    def ended(self, namespace: str, name: str) -> None:
        """A task taken has ended."""
        if self._caps:
            with self._lock:
                self._count(task_key(namespace, name), -1)

    def _count(self, key: str, step: int) -> None:
        self._running[key] += step
        image = self._images.get(key)
        if image is not None:
            self._running[image] += step

    def running(self, key: str) -> int:
        """How many of a task type ("NAMESPACE/TASK") or an image run now."""
        with self._lock:
            return self._running[key]
