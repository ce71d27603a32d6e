"""Images pulled by their pull policy: at start-up (`prepare`: what the engine lacks, and, for
`always`, a build the registry has and the engine does not), then, for `always`, in the
background every interval.

A new build pulled in the background is handed to `on_pulled` (the served images follow
it: its catalog and digest are read again, and the warm pool retires the old build's
containers). A registry that cannot be asked after start-up is logged once, checked
again later and later, and changes nothing else: the runner serves the builds it has.
The decisions are runner.core.pulling's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

from runner.core.errors import ConfigError, EngineError, RegistryError
from runner.core.pulling import (
    RegistryWatch,
    Repulls,
    Start,
    image_ref,
    is_current,
    on_start,
    watched,
)
from runner.core.pullprogress import PullProgress

log = logging.getLogger(__name__)

_STOP_WAIT_S = 5.0  # at shutdown: a check or a pull under way


class Registry(Protocol):
    def remote_digest(self, image: str) -> str: ...
    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None: ...


class LocalImages(Protocol):
    def image_id(self, image: str) -> str: ...
    def image_digests(self, image: str) -> list[str]: ...


class ImagePuller:
    def __init__(
        self,
        registry: Registry,
        engine: LocalImages,
        policies: Mapping[str, str],
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._engine = engine
        self._policies = dict(policies)  # image -> its pull policy
        self._clock = clock
        self._watch = RegistryWatch(watched(self._policies.items()), interval_s, clock())
        self._repulls = Repulls()
        self._pulling = threading.Lock()  # one pull at a time: the background and a repull
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="image-puller", daemon=True)
        self.on_pulled: Callable[[str], None] = lambda image: None
        self.serving: Callable[[str], str] = lambda image: "the build the engine has"

    def prepare(self, awaited: Collection[str] = ()) -> None:
        """Pull what start-up needs (not the awaited images: they are being built); ConfigError
        naming the image (and its registry) when an image cannot be had, or its registry
        refuses the runner's credentials."""
        for image, policy in self._policies.items():
            if image not in awaited:
                self._prepare(image, on_start(policy, self._present(image), image_ref(image)))

    def missing(self) -> list[str]:
        """The images the engine does not have now."""
        return [image for image in self._policies if not self._present(image)]

    def _prepare(self, image: str, action: Start) -> None:
        if action is Start.ABSENT:
            raise ConfigError(
                f"image {image} not found in the engine (build it or pull it first: its "
                "pull policy is never)"
            )
        try:
            if action is Start.PULL:
                self._pull(image)
            elif action is Start.CHECK:
                self._check(image)
        except RegistryError as exc:
            if action is Start.PULL:
                raise ConfigError(
                    f"image {image} not found in the engine, and it cannot be pulled: {exc}"
                ) from None
            if exc.kind == "refused":
                raise ConfigError(str(exc)) from None
            log.warning("%s; serving the build the engine has until it answers", exc)

    def _present(self, image: str) -> bool:
        try:
            self._engine.image_id(image)
        except ConfigError:
            return False
        return True

    def recover(self, image: str) -> bool:
        """`image` may be gone from the engine (removed since start-up): pull it again if its
        pull policy lets (missing, always) and its backoff allows; whether the engine has it
        now."""
        if self._present(image):
            self._repulls.done(image)
            return True
        if self._policies.get(image) == "never" or not self._repulls.due(image, self._clock()):
            return False
        log.warning("image %s is gone from the engine: pulling it again", image)
        try:
            self._pull(image)
        except (RegistryError, EngineError) as exc:
            said = self._repulls.failed(image, str(exc), self._clock())
            if said is not None:
                log.warning("%s", said)
            return False
        self._repulls.done(image)
        self.on_pulled(image)
        return True

    def _check(self, image: str) -> bool:
        """Pull `image` if its registry's tag names a build the engine lacks, or the engine
        has none any more; whether it did."""
        if not self._present(image):
            log.warning("image %s is gone from the engine: pulling it again", image)
            self._pull(image)
            return True
        remote = self._registry.remote_digest(image)
        if is_current(image, self._engine.image_digests(image), remote):
            log.debug("image %s is up to date (digest %s)", image, remote)
            return False
        log.info("image %s: its registry has a new build, digest %s: pulling it", image, remote)
        self._pull(image)
        return True

    def _pull(self, image: str) -> None:
        log.info("pulling image %s from %s", image, image_ref(image).registry)
        progress = PullProgress(image, self._clock())

        def on_event(event: Mapping[str, Any]) -> None:
            line = progress.feed(event, self._clock())
            if line is not None:
                log.info("%s", line)

        with self._pulling:
            self._registry.pull(image, on_event)
        log.info("%s", progress.finished(self._clock()))

    def start(self) -> None:
        """Check the `always` images every interval, in the background (none: nothing runs)."""
        if self._watch.images:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(_STOP_WAIT_S)

    def _run(self) -> None:
        while not self._stop.wait(self._watch.wait_s(self._clock())):
            for image in self._watch.due(self._clock()):
                if self._stop.is_set():
                    return
                try:
                    self._periodic(image)
                except Exception:  # a bug must not end the checks silently
                    log.exception("image %s: checking its registry failed; carrying on", image)

    def _periodic(self, image: str) -> None:
        try:
            pulled = self._check(image)
        except (RegistryError, EngineError, ConfigError) as exc:
            said = self._watch.failed(image, str(exc), self._clock(), self.serving(image))
            if said is not None:
                log.warning("%s", said)
            else:
                log.debug("image %s: its registry still cannot be asked: %s", image, exc)
            return
        said = self._watch.succeeded(image, self._clock())
        if said is not None:
            log.info("%s", said)
        if pulled:
            self.on_pulled(image)
