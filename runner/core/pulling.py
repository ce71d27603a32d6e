"""Images from a registry, decided without one: what an image name says, which digest the
engine's copy has, what to do at start-up for each pull policy, and when to ask the
registry again (every interval; after a failure, later and later, saying so once).

The pull policies (`TaskPolicy.pull`):
- `missing`: pull at start-up what the engine does not have;
- `always`: that, and ask the registry every interval whether the tag names a new digest;
- `never`: use what the engine has; an image it lacks stops the start-up.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from runner.core.backoff import backoff_delay

DOCKER_HUB = "docker.io"
DEFAULT_PULL_INTERVAL_S = 300.0
# After failed checks, the next one waits longer: twice as long each time, up to this many
# intervals.
MAX_BACKOFF_INTERVALS = 8


@dataclass(frozen=True)
class ImageRef:
    """An image name, as the docker CLI reads it: `[registry/]repository[:tag][@digest]`."""

    registry: str
    repository: str  # as written, registry included: what RepoDigests name
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> bool:
        """Named by its digest: it never moves, there is nothing to check."""
        return self.digest is not None


def image_ref(name: str) -> ImageRef:
    rest, _, digest = name.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    tag = None
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    first, _, more = rest.partition("/")
    own_registry = bool(more) and ("." in first or ":" in first or first == "localhost")
    return ImageRef(
        registry=first if own_registry else DOCKER_HUB,
        repository=rest,
        tag=tag if tag is not None or digest else "latest",
        digest=digest or None,
    )


def _familiar(repository: str) -> str:
    """The short form the engine shows Docker Hub's repositories in (`debian`, `me/x`)."""
    for prefix in ("docker.io/", "index.docker.io/"):
        if repository.startswith(prefix):
            repository = repository[len(prefix) :]
    return repository.removeprefix("library/")


def local_digest(name: str, repo_digests: Sequence[str]) -> str | None:
    """The digest the engine's copy of `name` was pulled (or pushed) as, from the image's
    RepoDigests (`repository@sha256:...`); None for an image built here and never pushed."""
    ref = image_ref(name)
    if ref.digest is not None:
        return ref.digest
    wanted = _familiar(ref.repository)
    for entry in repo_digests:
        repository, _, digest = entry.partition("@")
        if digest and _familiar(repository) == wanted:
            return digest
    return None


def is_current(name: str, repo_digests: Sequence[str], remote_digest: str) -> bool:
    """Whether the engine's copy of `name` is the build the registry's tag names now."""
    ref = image_ref(name)
    wanted = _familiar(ref.repository)
    return any(
        entry.partition("@")[2] == remote_digest
        and _familiar(entry.partition("@")[0]) == wanted
        for entry in repo_digests
    )


class Start(enum.Enum):
    USE = "use"  # the engine's copy, as it is
    PULL = "pull"  # pull it now; start-up fails if it cannot be pulled
    CHECK = "check"  # ask the registry; pull if it has another build, else use the copy
    ABSENT = "absent"  # not in the engine, and not to be pulled: start-up fails


def on_start(policy: str, present: bool, ref: ImageRef) -> Start:
    """What start-up does about one image, by its pull policy."""
    if policy == "never":
        return Start.USE if present else Start.ABSENT
    if not present:
        return Start.PULL
    if policy == "always" and not ref.pinned:
        return Start.CHECK
    return Start.USE


def watched(images: Iterable[tuple[str, str]]) -> list[str]:
    """Of (image, pull policy) pairs, the images to check every interval."""
    return [image for image, policy in images if policy == "always" and not image_ref(image).pinned]


@dataclass
class _Watch:
    due_at: float
    failures: int = 0


class RegistryWatch:
    """When to ask the registry about each watched image next, and what to say about its
    failures: the first of a run of them, and the recovery, once each."""

    def __init__(
        self,
        images: Iterable[str],
        interval_s: float,
        now: float,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.interval_s = interval_s
        self._rand = rand
        self._watches = {image: _Watch(now + interval_s) for image in images}

    @property
    def images(self) -> list[str]:
        """The images watched."""
        return list(self._watches)

    def due(self, now: float) -> list[str]:
        return [image for image, w in self._watches.items() if w.due_at <= now]

    def wait_s(self, now: float) -> float:
        """Seconds until the next check is due (the interval when nothing is watched)."""
        if not self._watches:
            return self.interval_s
        return max(0.0, min(w.due_at for w in self._watches.values()) - now)

    def succeeded(self, image: str, now: float) -> str | None:
        """The check answered: the next one is an interval away. A recovery is reported."""
        watch = self._watches[image]
        failed, watch.failures = watch.failures, 0
        watch.due_at = now + self.interval_s
        if failed:
            return f"image {image}: its registry answers again (after {failed} failed check(s))"
        return None

    def failed(self, image: str, problem: str, now: float, serving: str) -> str | None:
        """The check failed: the next one waits longer. Reported the first time only."""
        watch = self._watches[image]
        delay = backoff_delay(
            watch.failures,
            base_s=self.interval_s,
            factor=2.0,
            cap_s=self.interval_s * MAX_BACKOFF_INTERVALS,
            jitter=0.1,
            rand=self._rand,
        )
        watch.failures += 1
        watch.due_at = now + delay
        if watch.failures > 1:
            return None
        return (
            f"image {image}: cannot check its registry for a new build: {problem}; its tasks "
            f"keep running on {serving}; checking again later and later (said once until it "
            "answers)"
        )


# A served image gone from the engine, pulled again: at once, then after each failure twice
# as long, up to this.
REPULL_BASE_S = 5.0
REPULL_CAP_S = 300.0


class Repulls:
    """When a served image that went missing from the engine may be pulled again, and what
    to say of the failures: the first of a run of them, once."""

    def __init__(self) -> None:
        self._failed: dict[str, _Watch] = {}

    def due(self, image: str, now: float) -> bool:
        watch = self._failed.get(image)
        return watch is None or now >= watch.due_at

    def failed(self, image: str, problem: str, now: float) -> str | None:
        watch = self._failed.setdefault(image, _Watch(now))
        watch.due_at = now + backoff_delay(
            watch.failures, base_s=REPULL_BASE_S, factor=2.0, cap_s=REPULL_CAP_S, jitter=0.0
        )
        watch.failures += 1
        if watch.failures > 1:
            return None
        return (
            f"image {image} is gone from the engine, and pulling it again failed: {problem}; "
            "trying again later and later (said once), and using it as soon as it is back"
        )

    def done(self, image: str) -> None:
        self._failed.pop(image, None)
