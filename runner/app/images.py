"""The served images: the image ID each name resolved to, and the catalog read from it.

The catalog is read from the image ID, not the name, so that the tasks are
routed by the very image their containers are created from. When a name moves
to another image (a rebuild, a pull; the warm pool notices), its catalog is
read again: the routes follow at once, and the namespaces whose definitions
changed are handed to `on_change` (to publish them again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from runner.core.catalog import Catalog, CatalogCheck, TaskRoute, routes_from_label
from runner.core.errors import ConfigError, EngineError

log = logging.getLogger(__name__)


class ImageEngine(Protocol):
    def image_id(self, image: str) -> str: ...
    def image_labels(self, image: str) -> Mapping[str, str]: ...


# (the new catalog, the namespaces whose task definitions changed)
OnChange = Callable[[Catalog, list[str]], None]


class ServedImages:
    def __init__(self, images: Sequence[str], engine: ImageEngine, check: CatalogCheck) -> None:
        self._engine = engine
        self._check = check
        self.ids: dict[str, str] = {}
        self._routes: dict[str, list[TaskRoute]] = {}
        for image in images:
            self.ids[image] = engine.image_id(image)
            self._routes[image] = self._read(image, self.ids[image])
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

    def moved(self, image: str, image_id: str) -> None:
        """`image` names `image_id` now: read its catalog again. A catalog that cannot be
        used is reported, and the previous one kept for its tasks."""
        try:
            routes = self._read(image, image_id)
            others = [r for name, rs in self._routes.items() if name != image for r in rs]
            catalog = Catalog([*others, *routes])
        except (ConfigError, EngineError) as exc:
            log.error(
                "image %s changed, but its catalog cannot be read: %s; its tasks keep the "
                "catalog read at start-up",
                image,
                exc,
            )
            return
        changed = _changed_namespaces(self.catalog, catalog)
        added = sorted(set(catalog.namespaces) - set(self.catalog.namespaces))
        if added:
            log.warning(
                "image %s now declares namespace(s) %s: restart the runner to poll them",
                image,
                ", ".join(added),
            )
        self.ids[image], self._routes[image], self.catalog = image_id, routes, catalog
        if changed:
            log.info("image %s: the catalog of %s changed", image, ", ".join(changed))
        if self.on_change is not None:
            self.on_change(catalog, changed)


def _changed_namespaces(old: Catalog, new: Catalog) -> list[str]:
    """The new catalog's namespaces whose definitions are not the old ones."""
    return [ns for ns in new.namespaces if _definitions(old, ns) != _definitions(new, ns)]


def _definitions(catalog: Catalog, namespace: str) -> list[Mapping[str, Any]]:
    return sorted(catalog.definitions(namespace), key=lambda d: str(d.get("name")))
