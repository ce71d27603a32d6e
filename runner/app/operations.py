"""The operations listener of a runner (`--http-addr`): its metrics observe the worker, its
probes ask the runner. Off when no address is set; the worker then reports to no one."""

from __future__ import annotations

from runner import __version__
from runner.config.settings import RunnerSettings
from runner.core.catalog import Catalog
from runner.ops.http import OpsApp, OpsListener
from runner.ops.metrics import Metrics
from runner.ops.probes import Identity, Probes, RunnerView
from runner.worker.faults import RunnerFaults

# A loop beats at least every second, except while it waits for one request to the
# platform, which its timeout bounds (plus 5 s to connect); past that it is stuck.
_STUCK_MARGIN_S = 10.0


def stuck_after_s(settings: RunnerSettings) -> float:
    """How long the poll loop or the status sender may show no sign of life."""
    return settings.http_timeout_s + _STUCK_MARGIN_S


def catalog_tasks(catalog: Catalog) -> list[tuple[str, str]]:
    """Every (namespace, task) of the catalog: the metrics' bounded label values."""
    return [(route.namespace, route.name) for route in catalog]


def build_metrics(settings: RunnerSettings, catalog: Catalog) -> Metrics | None:
    """The metrics, when the listener is on."""
    if settings.http_addr is None:
        return None
    return Metrics(
        catalog_tasks(catalog),
        images=settings.images,
        slots=settings.concurrency,
        version=__version__,
    )


def build_listener(
    settings: RunnerSettings,
    metrics: Metrics,
    runner: RunnerView,
    faults: RunnerFaults,
) -> OpsListener:
    """The listener of `settings.http_addr`, not started yet. Every answer comes from
    memory: none waits on the engine or the platform."""
    if settings.http_addr is None:
        raise ValueError("the operations listener needs an address")
    metrics.watch(
        outbox_pending=runner.outbox_pending,
        engine_up=lambda: faults.engine_problem() is None,
        ready=lambda: runner.readiness() is None,
        image_up=lambda image: image not in faults.image_problems(),
    )
    identity = Identity(settings.runner_id, __version__, settings.images, settings.concurrency)
    app = OpsApp(Probes(runner, metrics, identity), metrics.registry)
    host, port = settings.http_addr
    return OpsListener(app, host, port)
