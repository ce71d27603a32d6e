"""The warm pool: task containers created, attached and started before their tasks.

A Launcher in front of the engine. A task whose image and container policy
match a pool gets one of its idle containers at once (checked alive first);
otherwise, or when the pool is empty, its container is launched cold, exactly
as without a pool. Each container runs one task, then is removed. Every
container, warm or cold, is created from the image ID its tag names at that
moment (checked at each hand-out), so a rebuilt or pulled image is used by the
very next task. An image's secret files are read at each hand-out too (a few
small files): a warm container whose secrets were read before they changed is
not handed out, and its image's idle containers are replaced.

One background thread watches the idle containers and the tags and starts refills (one
at a time, or several while a pool is empty and no task launches its own container:
runner.engine.creations); removals run on another (runner.engine.remover). The decisions
are runner.core.warmpool's.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial

from runner.core import warmpool
from runner.core.condition import LEVELS
from runner.core.errors import ConfigError, EngineError, ImageMissing
from runner.core.secrets import SecretSnapshot, SecretSource
from runner.core.warmpool import Create, Discard, Event, Moved, PoolKey, Report, Target, WarmPool
from runner.engine.creations import Creations
from runner.engine.interface import (
    LABEL_POOL,
    LABEL_RUNNER_ID,
    Container,
    ContainerSpec,
    LaunchReports,
    NoReports,
    OnMoved,
    PoolContainer,
    PoolEngine,
    PoolObserver,
    Snapshots,
)
from runner.engine.remover import HandedOut, Remover

log = logging.getLogger(__name__)

_WATCH_S = 0.25  # how often idle containers are checked, when nothing else wakes the pool
_IMAGE_CHECK_S = 2.0  # how often tags are checked in the background (also at each hand-out)
_EXAMINE_WAIT_S = 5.0  # how long a dead container's exit status is waited for
_CLOSE_WAIT_S = 10.0  # at shutdown: a creation under way, then the queued removals
_NO_SECRETS = SecretSnapshot()


class ContainerPool:
    """`start()`, then `launch()` from any thread; `close()` removes every container it
    holds and every one handed out whose removal is still queued."""

    def __init__(
        self,
        engine: PoolEngine,
        targets: Iterable[Target],
        *,
        runner_id: str,
        on_moved: OnMoved | None = None,
        observer: PoolObserver | None = None,
        secrets: Snapshots | None = None,
        health: LaunchReports | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._health = health or NoReports()
        self._secrets = secrets
        self._observer = observer
        self._runner_id = runner_id
        self._on_moved = on_moved
        self._clock = clock
        targets = list(targets)
        self._sources = {t.image: t.env.secrets for t in targets}
        self._machine = WarmPool(targets)
        self._lock = threading.Lock()
        self._containers: dict[str, PoolContainer] = {}  # created, not handed out
        self._dead: list[tuple[str, str]] = []  # (image, id) of idle ones whose output ended
        self._moved: list[Moved] = []
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._images_checked = float("-inf")
        self._remover = Remover()
        self._creations = Creations(self._create, self._wake.set)
        self._thread = threading.Thread(target=self._run, name="warm-pool", daemon=True)

    def start(self, image_ids: Mapping[str, str]) -> None:
        """Start refilling, from these image IDs (those the catalogs were read from)."""
        for image, image_id in image_ids.items():
            self._act(self._machine.resolved(image, image_id))
        self._remover.start()
        self._thread.start()

    def launch(self, spec: ContainerSpec) -> Container:
        """A warm container of the spec's image and policy if one is ready, else a cold one;
        both created from the image ID the spec's image names now."""
        image_id = self._resolve(spec.image)
        secrets = self._read_secrets(spec.image, spec.env.secrets)
        key = PoolKey(image_id, spec.limits, spec.command, spec.env, secrets.version)
        container = self._take(spec.image, key)
        if container is not None:
            return HandedOut(container, self._remover, warm=True)
        cold = dataclasses.replace(spec, image=image_id, secrets=secrets if secrets.files else None)
        launched = self._creations.cold(lambda: self._engine.launch(cold))
        return HandedOut(launched, self._remover, warm=False)

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._tell(self._machine.close)
        if self._thread.is_alive():
            self._thread.join(_CLOSE_WAIT_S)
        self._creations.close(_CLOSE_WAIT_S)
        with self._lock:
            left = list(self._containers.values())
            self._containers.clear()
        for container in left:  # idle ones found dead, not examined yet
            self._remover.remove(container)
        self._remover.close(_CLOSE_WAIT_S)

    def _resolve(self, image: str) -> str:
        try:
            image_id = self._engine.image_id(image)
        except ConfigError:  # removed since the runner started
            raise ImageMissing(
                f"image {image} is not in the engine any more (removed, or its tag moved to "
                "an image that is gone)"
            ) from None
        self._tell(partial(self._machine.resolved, image, image_id))
        return image_id

    def _read_secrets(self, image: str, sources: Sequence[SecretSource]) -> SecretSnapshot:
        """The image's secrets as their files hold them now; the idle containers given other
        contents are retired."""
        if not sources or self._secrets is None:
            return _NO_SECRETS
        snapshot = self._secrets.snapshot(image, sources)
        self._tell(partial(self._machine.secrets_read, image, snapshot.version))
        return snapshot

    def _take(self, image: str, key: PoolKey) -> PoolContainer | None:
        try:
            with self._lock:
                while (container_id := self._machine.hand_out(image, key)) is not None:
                    container = self._containers[container_id]
                    if container.alive():
                        del self._containers[container_id]
                        self._machine.confirmed(image)
                        return container
                    self._dead.append((image, container_id))
                return None
        finally:
            self._wake.set()  # refill, examine

    def _tell(self, fact: Callable[[], list[Event]]) -> None:
        """Tell the pool's state machine a fact (under the lock); act on what it answers."""
        with self._lock:
            events = fact()
        self._act(events)

    def _act(self, events: Iterable[Event]) -> None:
        for event in events:
            if isinstance(event, Discard):
                with self._lock:
                    container = self._containers.pop(event.container_id, None)
                if container is not None:
                    level = logging.WARNING if event.reason.startswith("died") else logging.DEBUG
                    log.log(level, "warm container %s %s", event.container_id[:12], event.reason)
                    self._remover.remove(container)
            elif isinstance(event, Moved):
                with self._lock:
                    self._moved.append(event)
                self._wake.set()
            elif isinstance(event, Report):
                log.log(LEVELS.get(event.level, logging.WARNING), "%s", event.message)

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                self._step()
            except Exception:  # a bug must not end the refills silently
                log.exception("warm pool: unexpected error; carrying on")
                self._closing.wait(1.0)

    def _step(self) -> None:
        self._wake.clear()
        self._check_images()
        self._watch()
        self._examine()
        self._announce()
        with self._lock:
            create = self._machine.next_creation(self._clock(), busy=self._creations.busy)
        if create is not None:
            self._creations.start(create)
        else:
            self._wake.wait(_WATCH_S)

    def _check_images(self) -> None:
        """Now and then, whether a served image's tag moved (a rebuild, a pull), or its
        secrets changed (failures: its next creation or hand-out says so)."""
        if self._clock() - self._images_checked < _IMAGE_CHECK_S:
            return
        self._images_checked = self._clock()
        with self._lock:
            images = list(self._machine.image_ids())
        for image in images:
            try:
                self._resolve(image)
                self._read_secrets(image, self._sources.get(image, ()))
            except EngineError as exc:
                log.debug("warm pool: cannot check image %s: %s", image, exc)

    def _watch(self) -> None:
        """Idle containers whose output ended (exited, killed, removed) are set aside; the
        observer hears how many are idle, per image."""
        idle: Counter[str] = Counter()
        with self._lock:
            for image, container_id in self._machine.idle():
                if self._containers[container_id].alive():
                    idle[image] += 1
                else:
                    self._machine.ended(image, container_id)
                    self._dead.append((image, container_id))
            images = list(self._machine.image_ids())
        if self._observer is not None:
            for image in images:
                self._observer.pool_idle(image, idle[image])

    def _examine(self) -> None:
        """Why each dead idle container ended; then it is discarded."""
        with self._lock:
            dead, self._dead = self._dead, []
        for image, container_id in dead:
            container = self._containers.get(container_id)
            if container is None:
                continue
            try:
                ended = container.wait(_EXAMINE_WAIT_S)
                stderr = container.early_stderr()
                detail = warmpool.death(ended.exit_code, ended.oom_killed, stderr)
            except EngineError as exc:
                log.debug("warm container %s: %s", container_id[:12], exc)
                self._tell(partial(self._machine.lost, image, container_id))
            else:
                self._tell(partial(self._machine.died, image, container_id, detail))

    def _announce(self) -> None:
        with self._lock:
            moved, self._moved = self._moved, []
        for event in moved:
            log.info(
                "image %s now names %s (was %s): its warm containers are replaced",
                event.image,
                event.new_id[:19],
                event.old_id[:19],
            )
            if self._on_moved is not None:
                try:
                    self._on_moved(event.image, event.new_id)
                except Exception:  # the pool goes on, whatever the listener does
                    log.exception("image %s: reacting to its change failed", event.image)

    def _create(self, create: Create) -> None:
        try:
            secrets = self._read_secrets(create.image, create.key.env.secrets)
            if secrets.version != create.key.secrets_version:  # changed since: the new ones
                create = Create(
                    create.image, dataclasses.replace(create.key, secrets_version=secrets.version)
                )
            spec = ContainerSpec(
                image=create.key.image_id,
                labels={LABEL_RUNNER_ID: self._runner_id, LABEL_POOL: create.image},
                limits=create.key.limits,
                command=create.key.command,
                env=create.key.env,
                secrets=secrets if secrets.files else None,
            )
            mark = self._health.mark()
            container = self._engine.launch(spec)
        except EngineError as exc:  # SecretError included
            self._health.launch_failed(create.image, exc)
            self._tell(partial(self._machine.creation_failed, create, str(exc), self._clock()))
        else:
            self._health.created(mark)
            with self._lock:
                self._containers[container.id] = container
                events = self._machine.created(create, container.id)
            self._act(events)

