"""The runner's own faults, as a pure state machine: which hold now, what to tell the
operator, and when to probe whether each has gone.

A fault of the runner is never a task's fault: the engine does not answer, it cannot
create or start containers, or a served image is missing (its tag was removed) or cannot
be given its secrets. While one holds, the runner takes no task it would fail: an engine
fault stops all polling, an image fault stops polling that image's namespaces. Each fault
ends by itself once the runner sees the thing work again: a ping answered, a container
launched. Between, the open faults are probed, later and later (PROBE), so that a runner
with no task to try still notices the end.

The caller (runner.worker.faults) supplies the time and does the logging and the probing.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.core.backoff import Schedule, backoff_delay
from runner.core.condition import Condition, Say

# Probing an open fault: after 1 s, then twice as long each time, at most every 10 s.
PROBE = Schedule(base_s=1.0, cap_s=10.0, jitter=0.0)


@dataclass(frozen=True)
class Scope:
    """What a fault is about: "answer" (the engine does not answer), "create" (it cannot
    create or start containers), or "image" (that image cannot be launched)."""

    kind: str
    image: str = ""

    def __str__(self) -> str:
        return f"image {self.image}" if self.kind == "image" else f"engine ({self.kind})"


ENGINE_ANSWER = Scope("answer")
ENGINE_CREATE = Scope("create")


def image_scope(image: str) -> Scope:
    return Scope("image", image)


_WORDS = {
    "answer": (
        "the container engine does not answer",
        "the container engine answers again",
        "not taking new tasks until it does",
    ),
    "create": (
        "the container engine cannot start containers",
        "the container engine starts containers again",
        "not taking new tasks until it can; the tasks already taken wait for it",
    ),
    "image": (
        "image {image} cannot be launched",
        "image {image} can be launched again",
        "its namespaces are not polled until it can; its tasks already taken wait for it",
    ),
}


@dataclass
class _Fault:
    condition: Condition
    then: str
    probes: int = 0
    next_probe: float = 0.0
    last_failure: int = 0  # the mark of its latest failure


class FaultBook:
    def __init__(self, probe: Schedule = PROBE) -> None:
        self._probe = probe
        self._faults: dict[Scope, _Fault] = {}
        self._failures = 0  # failures told so far, of any scope

    def mark(self) -> int:
        """A mark to take before an attempt, and give back with its success: a success of
        an attempt that began before the latest failure of its scope proves nothing (it was
        under way when the fault began), and ends no fault."""
        return self._failures

    def failed(self, scope: Scope, detail: str, now: float) -> Say | None:
        """`scope` failed: the fault begins (or goes on); what to log, if anything."""
        self._failures += 1
        fault = self._faults.get(scope)
        if fault is None:
            began, ended, then = (w.format(image=scope.image) for w in _WORDS[scope.kind])
            fault = _Fault(Condition(began, ended, level="error"), then)
            self._faults[scope] = fault
            fault.next_probe = now + self._delay(0)
        fault.last_failure = self._failures
        return fault.condition.failed(detail, now, fault.then)

    def cleared(self, scope: Scope, now: float, mark: int) -> Say | None:
        """`scope` worked, in an attempt begun at `mark`: its fault, if any, has ended
        (unless it failed again since the mark); what to log, if anything. When the engine
        answers again, every other fault is due for a probe at once (an engine back from a
        restart has likely mended them too)."""
        fault = self._faults.get(scope)
        if fault is None or fault.last_failure > mark:
            return None
        del self._faults[scope]
        if scope == ENGINE_ANSWER:
            for other in self._faults.values():
                other.next_probe = now
        return fault.condition.ok(now)

    def holds(self, scope: Scope) -> bool:
        return scope in self._faults

    def due(self, now: float) -> list[Scope]:
        """The faults to probe now ("create" and "image"; the engine's answer is pinged
        anyway); each is probed next after its backoff."""
        found = []
        for scope, fault in self._faults.items():
            if scope.kind != "answer" and now >= fault.next_probe:
                fault.probes += 1
                fault.next_probe = now + self._delay(fault.probes)
                found.append(scope)
        return found

    def next_probe_in(self, now: float) -> float | None:
        """Seconds until the next probe is due (0 if one is), or None if none is open."""
        times = [f.next_probe for s, f in self._faults.items() if s.kind != "answer"]
        return max(0.0, min(times) - now) if times else None

    def engine_problem(self) -> str | None:
        """Why no task can run at all now (an engine fault), or None."""
        for scope in (ENGINE_ANSWER, ENGINE_CREATE):
            fault = self._faults.get(scope)
            if fault is not None:
                return f"{_WORDS[scope.kind][0]}: {fault.condition.detail}"
        return None

    def image_problems(self) -> dict[str, str]:
        """Each image that cannot be launched now, and why."""
        return {
            scope.image: fault.condition.detail
            for scope, fault in self._faults.items()
            if scope.kind == "image"
        }

    def _delay(self, attempt: int) -> float:
        probe = self._probe
        return backoff_delay(
            attempt, base_s=probe.base_s, factor=probe.factor, cap_s=probe.cap_s, jitter=0.0
        )
