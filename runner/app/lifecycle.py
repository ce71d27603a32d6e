"""A runner's life: connected, built, started and published, then closed whatever happens."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from runner.app.parts import connect_engine, registries
from runner.app.runner import Runner
from runner.app.signals import stop_on_signals
from runner.config.settings import RunnerSettings
from runner.ops.logs import redact

log = logging.getLogger(__name__)


@contextmanager
def open_runner(settings: RunnerSettings, *, await_images: bool = False) -> Iterator[Runner | None]:
    """A started runner whose catalog is published, SIGTERM/SIGINT wired to its worker;
    closed on the way out. None when a signal came before the catalog was published."""
    redact(settings.api_key)  # a line that would show it shows <redacted> instead
    log.info("starting: %s", settings.describe())
    engine = connect_engine(settings)
    try:
        registry = registries(settings)
        for credential in registry.credentials():
            redact(credential)
        try:
            runner = Runner(settings, engine, registry, await_images=await_images)
            try:
                runner.start()
                with stop_on_signals(runner.worker):
                    yield runner if runner.publication.publish() else None
            finally:
                runner.close()
        finally:
            registry.close()
    finally:
        engine.close()
