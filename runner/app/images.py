"""The served images: the image ID each name resolved to, its digest, and the catalog read
from it. The one place that knows which build of each image the runner serves.

The catalog is read from the image ID, not the name, so that the tasks are
routed by the very image their containers are created from. When a name moves
to another image (a rebuild, a pull; the warm pool or the puller notices), its
catalog is read again: the routes follow at once, and the namespaces whose
definitions changed are handed to `on_change` (to publish them again). The
digest is the one the registry knows the image by (None for an image built on
this engine and never pushed); each is logged, and shown by /status.

An awaited image (`xc-runner demo --await-images`: the set-up is still building it) is
served from the moment the engine has it: `look_for_awaited` reads its catalog then, and
hands its namespaces to `on_change` as for a moved tag.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from runner.core.catalog import Catalog, CatalogCheck, TaskRoute, routes_from_label
from runner.core.errors import ConfigError, EngineError
from runner.core.pulling import local_digest

log = logging.getLogger(__name__)

_STOP_WAIT_S = 5.0  # at shutdown: a catalog being read


class ImageEngine(Protocol):
    def image_id(self, image: str) -> str: ...
    def image_labels(self, image: str) -> Mapping[str, str]: ...
    def image_digests(self, image: str) -> list[str]: ...


# (the new catalog, the namespaces whose task definitions changed)
OnChange = Callable[[Catalog, list[str]], None]


class ServedImages:
    def __init__(
        self,
        images: Sequence[str],
        engine: ImageEngine,
        check: CatalogCheck,
        awaited: Collection[str] = (),
    ) -> None:
        self._engine = engine
        self._check = check
        self._lock = threading.Lock()
        self.ids: dict[str, str] = {}
        self.digests: dict[str, str | None] = {}
        self._routes: dict[str, list[TaskRoute]] = {}
        self.awaited = [image for image in images if image in awaited]
        for image in self.awaited:
            log.info("image %s is not in the engine yet: its tasks join once it is", image)
        for image in images:
            if image in awaited:
                continue
            self.ids[image] = engine.image_id(image)
            self._routes[image] = self._read(image, self.ids[image])
            self.digests[image] = self._digest(image, self.ids[image])
        self.catalog = Catalog(r for routes in self._routes.values() for r in routes)
        self.on_change: OnChange | None = None

    def _read(self, image: str, image_id: str) -> list[TaskRoute]:
        found = routes_from_label(image, self._engine.image_labels(image_id), self._check)
        log.info(
            "image %s (%s): %s",
            image,
            image_id[:19],
            ", ".join(f"{r.namespace}/{r.name}" for r in found),
        )
        return found

    def _digest(self, image: str, image_id: str) -> str | None:
        digest = local_digest(image, self._engine.image_digests(image_id))
        log.info(
            "serving image %s: image ID %s, digest %s",
            image,
            image_id,
            digest or "none (built on this engine, never pushed nor pulled)",
        )
        return digest

    def describe(self, image: str) -> str:
        """The build of `image` served now, in words."""
        image_id, digest = self.ids.get(image, "?"), self.digests.get(image)
        return f"image ID {image_id[:19]}" + (f", digest {digest}" if digest else "")

    def served(self) -> list[dict[str, str | None]]:
        """Each served image, the ID its name resolved to and its digest (for /status)."""
        with self._lock:
            return [
                {"image": image, "imageId": image_id, "digest": self.digests.get(image)}
                for image, image_id in self.ids.items()
            ]

    def look_for_awaited(self) -> bool:
        """Each awaited image the engine has now joins the served ones; whether any is still
        awaited."""
        for image in list(self.awaited):
            try:
                image_id = self._engine.image_id(image)
            except ConfigError:
                continue  # not built yet
            except EngineError as exc:
                log.debug("image %s: cannot look for it: %s", image, exc)
                continue
            log.info("image %s is in the engine now: serving it", image)
            self.moved(image, image_id)
            self.awaited.remove(image)  # after: its routes are in the catalog once it is not
        return bool(self.awaited)

    def refresh(self, image: str) -> None:
        """Look at what `image` names now (after a pull), and follow it if it moved."""
        try:
            image_id = self._engine.image_id(image)
        except (ConfigError, EngineError) as exc:
            log.error("image %s: cannot look at it after its pull: %s", image, exc)
            return
        self.moved(image, image_id)

    def moved(self, image: str, image_id: str) -> None:
        """`image` names `image_id` now: read its catalog and digest again (nothing to do if
        it was read already). A catalog that cannot be used is reported, and the previous one
        kept for its tasks."""
        with self._lock:
            if self.ids.get(image) == image_id:
                return
            changed = self._follow(image, image_id)
        if changed is not None and self.on_change is not None:
            self.on_change(self.catalog, changed)

    def _follow(self, image: str, image_id: str) -> list[str] | None:
        """The namespaces whose definitions changed, or None if the new catalog is unusable."""
        try:
            routes = self._read(image, image_id)
            others = [r for name, rs in self._routes.items() if name != image for r in rs]
            catalog = Catalog([*others, *routes])
            digest = self._digest(image, image_id)
        except (ConfigError, EngineError) as exc:
            if image in self._routes:
                log.error(
                    "image %s changed, but its catalog cannot be read: %s; its tasks keep the "
                    "catalog read at start-up",
                    image,
                    exc,
                )
            else:
                log.error("image %s: its catalog cannot be read: %s; it is not served", image, exc)
            return None
        changed = _changed_namespaces(self.catalog, catalog)
        _log_namespaces(image, self.catalog, catalog)
        self.ids[image], self._routes[image], self.catalog = image_id, routes, catalog
        self.digests[image] = digest
        if changed:
            log.info("image %s: the catalog of %s changed", image, ", ".join(changed))
        return changed


class ImageWait:
    """Looks for the awaited images every `every_s` in the background, until none is left;
    `start()`, then `stop()` once."""

    def __init__(self, images: ServedImages, every_s: float = 0.5) -> None:
        self._images = images
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="image-wait", daemon=True)

    def start(self) -> None:
        if self._images.awaited:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(_STOP_WAIT_S)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                if not self._images.look_for_awaited():
                    return
            except Exception:  # a bug must not end the wait silently
                log.exception("looking for the awaited images failed; carrying on")


def _changed_namespaces(old: Catalog, new: Catalog) -> list[str]:
    """The new catalog's namespaces whose definitions are not the old ones."""
    return [ns for ns in new.namespaces if _definitions(old, ns) != _definitions(new, ns)]


def _definitions(catalog: Catalog, namespace: str) -> list[Mapping[str, Any]]:
    return sorted(catalog.definitions(namespace), key=lambda d: str(d.get("name")))


def _log_namespaces(image: str, old: Catalog, new: Catalog) -> None:
    """Say which namespaces start or stop being polled because `image` changed."""
    added = sorted(set(new.namespaces) - set(old.namespaces))
    gone = sorted(set(old.namespaces) - set(new.namespaces))
    if added:
        log.info("image %s now declares namespace(s) %s: polling them too", image, ", ".join(added))
    if gone:
        log.warning(
            "image %s no longer declares namespace(s) %s: they are not polled any more (the "
            "platform keeps their published tasks)",
            image,
            ", ".join(gone),
        )
