"""A task type's memory limit sized from what its runs used: a hint in words, and the value to
set (`memory = "64m"` in its `[tasks."NAMESPACE/TASK"]` section).

Only the runs under the limit in force now count (the limit of its latest measured run), so
that a changed limit is judged by the runs made since. The rules, in order:

- no measured run: nothing to say;
- an OOM kill under this limit: raise it (to twice the limit);
- fewer than MIN_RUNS runs: too few to size it;
- peak p95 over NEAR of the limit: close to it, raise it (to twice the limit at least);
- the peak with HEADROOM fits in a quarter of the limit or less: lower it to the power of
  two above the peak with HEADROOM (never below MIN_MEMORY);
- otherwise it fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runner.core.usage import MIB, mib

MIN_RUNS = 5
HEADROOM = 1.25  # a quarter above the peak p95
NEAR = 0.9
MIN_MEMORY = 8 * MIB  # the limit's own minimum is 6m: the power of two above it

Verdict = Literal["unmeasured", "oom", "few", "near", "oversized", "fits"]


@dataclass(frozen=True)
class Sizing:
    verdict: Verdict
    hint: str
    memory: str | None = None  # the limit to set, as a configuration file writes it


def size_text(size: int) -> str:
    """`64m`, `1g`: a size as the configuration file takes it."""
    if size >= 1024 * MIB and size % (1024 * MIB) == 0:
        return f"{size // (1024 * MIB)}g"
    return f"{-(-size // MIB)}m"


def _power_of_two_above(size: float) -> int:
    power = MIN_MEMORY
    while power < size:
        power *= 2
    return power


def sizing(runs: int, peak_p95: int | None, limit: int | None, oom_kills: int) -> Sizing:
    """The hint for a task type whose `runs` under its limit `limit` had this peak p95 and
    these OOM kills."""
    if limit is None or (peak_p95 is None and not oom_kills):
        return Sizing("unmeasured", "no measured run: nothing to size it by")
    at = f"at {size_text(limit)}"
    if oom_kills:
        raised = size_text(2 * limit)
        kills = f"{oom_kills} OOM kill{'s' if oom_kills > 1 else ''}"
        return Sizing("oom", f"{kills} {at}: raise it ({raised})", raised)
    assert peak_p95 is not None  # noqa: S101 -- no OOM kill and measured: the peak is known
    peak = f"peak p95 {mib(peak_p95)} of {mib(limit)}"
    if runs < MIN_RUNS:
        return Sizing("few", f"{peak} over {runs} run{'s' if runs > 1 else ''}: too few to size it")
    wanted = _power_of_two_above(peak_p95 * HEADROOM)
    if peak_p95 > NEAR * limit:
        raised = size_text(max(wanted, 2 * limit))
        return Sizing("near", f"{peak}: close to its limit, raise it ({raised})", raised)
    if wanted * 4 <= limit:
        lowered = size_text(wanted)
        return Sizing("oversized", f"{peak}: {lowered} would do", lowered)
    return Sizing("fits", f"{peak}: it fits")
