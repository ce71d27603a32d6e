"""A pull's progress, from the engine's stream of JSON events, as a few log lines: one at most
every few seconds while layers download, and one when the pull ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROGRESS_EVERY_S = 2.0
_DONE = ("Pull complete", "Already exists")


@dataclass
class _Layer:
    current: int = 0
    total: int = 0
    done: bool = False
    reused: bool = False


class PullProgress:
    """Feed it each event with the time it came (`feed`); it says what to log and when."""

    def __init__(self, image: str, started: float, every_s: float = PROGRESS_EVERY_S) -> None:
        self.image = image
        self.digest: str | None = None
        self.error: str | None = None
        self.up_to_date = False
        self._layers: dict[str, _Layer] = {}
        self._started = started
        self._said = started
        self._every_s = every_s

    def feed(self, event: Mapping[str, Any], now: float) -> str | None:
        """A progress line to log now, or None."""
        if event.get("error"):
            detail = event.get("errorDetail") or {}
            self.error = str(detail.get("message") or event["error"])
            return None
        status = str(event.get("status") or "")
        self._note(status, str(event.get("id") or ""), event.get("progressDetail") or {})
        if self._layers and now - self._said >= self._every_s:
            self._said = now
            return f"pulling {self.image}: {self._summary()}"
        return None

    def _note(self, status: str, layer_id: str, detail: Mapping[str, Any]) -> None:
        if status.startswith("Digest: "):
            self.digest = status.removeprefix("Digest: ").strip()
        elif status.startswith("Status: Image is up to date"):
            self.up_to_date = True
        elif layer_id and status and not status.startswith("Pulling from"):
            layer = self._layers.setdefault(layer_id, _Layer())
            if status == "Downloading":
                layer.current = int(detail.get("current") or 0)
                layer.total = int(detail.get("total") or layer.total)
            elif status in _DONE:
                layer.done = True
                layer.reused = status == "Already exists"
                layer.current = layer.total

    def _summary(self) -> str:
        done = sum(1 for layer in self._layers.values() if layer.done)
        current = sum(layer.current for layer in self._layers.values())
        total = sum(layer.total for layer in self._layers.values())
        size = f", {_mb(current)} of {_mb(total)} MB downloaded" if total else ""
        return f"{done} of {len(self._layers)} layer(s) done{size}"

    def finished(self, now: float) -> str:
        """The line that says how the pull ended (when it did not fail)."""
        took = now - self._started
        if self.up_to_date:
            return f"{self.image} is up to date (digest {self.digest}), checked in {took:.1f} s"
        pulled = f"pulled {self.image} (digest {self.digest}) in {took:.1f} s"
        new = [layer for layer in self._layers.values() if not layer.reused]
        if not new:
            return f"{pulled}: every layer was here already"
        size = sum(layer.total for layer in new)
        return f"{pulled}: {len(new)} new layer(s) of {len(self._layers)}, {_mb(size)} MB"


def _mb(count: int) -> str:
    return f"{count / 1e6:.1f}"
