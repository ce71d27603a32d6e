"""The runner's doctor: it finds the runner's own faults and sees them end, in the
background, so that nothing else waits on a sick engine.

Two threads:
- the pinger asks the engine whether it answers, every second and at once after an engine
  request failed; what it learns is kept in memory (runner.worker.faults), where the poll
  loop, /readyz and /metrics read it without waiting;
- the prober tries each open fault again, later and later (runner.core.faults.PROBE): it
  launches a container of the image concerned (or of any served image, for the engine)
  through the same launcher as the tasks, and removes it at once; an image gone from the
  engine is first pulled again, if its pull policy lets it.

A fault also ends when a task's own launch works: the prober only matters when no task
is there to try.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from runner.core.errors import EngineError
from runner.core.faults import ENGINE_ANSWER, Scope
from runner.core.policy import PolicyTable
from runner.engine.interface import LABEL_RUNNER_ID, ContainerSpec, PoolEngine
from runner.worker.faults import RunnerFaults

log = logging.getLogger(__name__)

PING_EVERY_S = 1.0
LABEL_PROBE = "xc-scenario.probe"  # on a container launched to see whether launches work
_JOIN_S = 5.0


class Pingable(Protocol):
    def ping(self) -> None: ...
    def wait_suspect(self, timeout_s: float) -> bool: ...


class Doctor:
    """`start()`, then `stop()` once."""

    def __init__(
        self,
        *,
        engine: Pingable,
        launcher: PoolEngine,
        faults: RunnerFaults,
        images: Sequence[str],
        policies: PolicyTable,
        runner_id: str,
        repull: Callable[[str], bool] = lambda image: False,
    ) -> None:
        self._engine = engine
        self._launcher = launcher
        self._faults = faults
        self._images = tuple(images)
        self._policies = policies
        self._runner_id = runner_id
        self._repull = repull
        self._stop = threading.Event()
        self._wake = threading.Event()  # a fault may be due for a probe
        self._threads = [
            threading.Thread(target=self._pinging, name="engine-ping", daemon=True),
            threading.Thread(target=self._probing, name="fault-probe", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(_JOIN_S)

    def _pinging(self) -> None:
        while not self._stop.is_set():
            mark = self._faults.mark()
            try:
                self._engine.ping()
            except EngineError as exc:
                self._faults.failed(ENGINE_ANSWER, str(exc))
            except Exception:  # a bug must not end the pings silently
                log.exception("pinging the engine failed unexpectedly; carrying on")
            else:
                self._faults.answered(mark)
            self._wake.set()  # faults may have begun: the prober looks
            self._engine.wait_suspect(PING_EVERY_S)

    def _probing(self) -> None:
        while not self._stop.is_set():
            for scope in self._faults.due():
                if self._stop.is_set():
                    return
                try:
                    self._probe(scope)
                except Exception:  # a bug must not end the probes silently
                    log.exception("probing %s failed unexpectedly; carrying on", scope)
            wait_s = self._faults.next_probe_in()
            self._wake.wait(PING_EVERY_S if wait_s is None else min(wait_s, PING_EVERY_S))
            self._wake.clear()

    def _probe(self, scope: Scope) -> None:
        """Launch a container of the scope's image (any image for the engine), and remove it;
        the fault tracker hears how it went."""
        if self._faults.holds(ENGINE_ANSWER):
            return  # a launch cannot work: the pinger sees the engine come back first
        image = scope.image or self._healthy_image()
        if scope.image:
            self._repull(image)
        policy = self._policies.for_image(image)
        spec = ContainerSpec(
            image=image,
            labels={LABEL_RUNNER_ID: self._runner_id, LABEL_PROBE: "1"},
            limits=policy.limits,
            env=policy.env,
        )
        mark = self._faults.mark()
        try:
            container = self._launcher.launch(spec)
        except EngineError as exc:  # secrets that cannot be read included
            log.debug("probe of %s: %s", scope, exc)
            self._faults.launch_failed(image, exc)
            return
        container.remove()
        self._faults.launched(image, created=True, mark=mark)

    def _healthy_image(self) -> str:
        """A served image with no fault of its own (the first one if all have one)."""
        troubled = self._faults.image_problems()
        return next((image for image in self._images if image not in troubled), self._images[0])
