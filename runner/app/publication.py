"""The catalog's publication: at start-up, and again in the background for the namespaces
whose definitions changed (an image was rebuilt or pulled); what stands in its way, for
/readyz."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from runner.app.startup import Publish, publish_catalogs
from runner.core.catalog import Catalog
from runner.core.errors import PlatformError

log = logging.getLogger(__name__)


class Publication:
    def __init__(
        self,
        catalog: Callable[[], Catalog],
        publish: Publish,
        stop: threading.Event,
        on_error: Callable[[], None],
    ) -> None:
        self._catalog = catalog
        self._publish = publish
        self._stop = stop
        self._on_error = on_error
        self.published = False  # every namespace's catalog, once
        self.problem = "publishing it"  # why it is not published yet

    def publish(self, namespaces: list[str] | None = None) -> bool:
        """Publish the catalog (of these namespaces); False if the runner was stopped before
        it could be. AuthError and other refusals propagate."""
        published = publish_catalogs(
            self._catalog(), self._publish, self._stop, namespaces, on_error=self._failed
        )
        self.published = self.published or (published and namespaces is None)
        return published

    def again(self, namespaces: list[str]) -> None:
        """Publish these namespaces in the background (their definitions changed)."""
        threading.Thread(
            target=self._again, args=(namespaces,), name="catalog-publisher", daemon=True
        ).start()

    def _again(self, namespaces: list[str]) -> None:
        try:
            self.publish(namespaces)
        except PlatformError as exc:
            log.error("the platform refused the changed catalog of %s: %s", namespaces, exc)

    def _failed(self, exc: Exception) -> None:
        self._on_error()
        self.problem = f"the platform refuses it or does not answer: {exc}"
