"""A task's Pod from its creation to its removal, and the catalog read from a Pod, on the
Kubernetes API as runner.engine.kubernetes_engine gives it (no client library here).

A launch creates the Pod (after its Secret, if its image has secrets), watches it until
its container runs, then attaches its streams (runner.engine.kube_stream). A Pod that
cannot start (its image cannot be pulled, the cluster refuses its settings) is deleted
and its launch fails: ImageMissing or ImageFault, as on Docker. A Pod whose container
exited before it could be attached is handed out all the same, with its log as stderr,
so that its task ends in the Error that says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from runner.core.catalog import CATALOG_LABEL
from runner.core.errors import ConfigError, EngineError, ImageFault, ImageMissing
from runner.engine.interface import LABEL_RUNNER_ID, Chunk, ContainerSpec, ExitInfo
from runner.engine.kube_manifest import Owner, PodState, pod_manifest, pod_state, secret_manifest
from runner.engine.kube_stream import STDERR, Channels, PodStreams
from runner.engine.stream import STDERR_TAIL_CHARS

# A Pod not running this long after its creation (unschedulable, its image still pulling)
# is deleted, and its launch fails.
START_TIMEOUT_S = 120.0
# On a Pod run once to print its image's catalog.
LABEL_CATALOG_READ = "xc-scenario.catalog-read"
_CATALOG_RUN_S = 60.0


class PodApi(Protocol):
    """What a Pod needs of the cluster (runner.engine.kubernetes_engine.KubernetesEngine)."""

    runner_id: str
    owner: Owner | None

    def pod_name(self) -> str: ...
    def pull_policy(self, image: str) -> str: ...
    def create(self, pod: dict[str, Any], secret: dict[str, Any] | None) -> str: ...
    def read_pod(self, name: str) -> dict[str, Any] | None: ...
    def watch_until(
        self, name: str, version: str, done: Callable[[PodState], bool], timeout_s: float
    ) -> PodState: ...
    def attach(self, name: str, *, stdin: bool) -> Channels: ...
    def log_tail(self, name: str, lines: int | None = 20) -> str: ...
    def delete(self, name: str, grace_s: float = 0.0, *, secret: bool = True) -> None: ...
    def mark_suspect(self) -> None: ...


class _Replay:
    """The streams of a Pod that ended before it was attached: its log, on stderr."""

    def __init__(self, text: str) -> None:
        self._frames: list[tuple[int, bytes] | None] = [(STDERR, text.encode()), None]

    def readable(self, timeout_s: float) -> bool:
        return True

    def receive(self) -> tuple[int, bytes] | None:
        return self._frames.pop(0) if self._frames else None

    def send(self, channel: int, data: bytes) -> None:
        pass

    def close(self) -> None:
        self._frames = [None]


class KubePod:
    """A task's Pod, its streams attached."""

    def __init__(
        self, api: PodApi, name: str, streams: PodStreams, *, secret: bool = False
    ) -> None:
        self.id = name
        self.warm = False
        self._api = api
        self._streams = streams
        self._secret = secret  # a Secret of its name, to delete with it
        self._deleted = False

    def send(self, data: bytes) -> None:
        self._streams.send(data)

    def read(self, timeout_s: float) -> list[Chunk] | None:
        try:
            return self._streams.read(timeout_s)
        except EngineError:
            self._api.mark_suspect()
            raise

    def alive(self) -> bool:
        return self._streams.drain()

    def early_stderr(self) -> str:
        tail = self._streams.stderr_tail()
        return tail or self._api.log_tail(self.id, 5).strip()[-STDERR_TAIL_CHARS:]

    def stop(self, grace_s: float) -> None:
        """Delete the Pod: SIGTERM, then SIGKILL after `grace_s` (at least a second)."""
        self._streams.close()
        self._deleted = True
        self._api.delete(self.id, max(grace_s, 1.0), secret=self._secret)

    def wait(self, timeout_s: float) -> ExitInfo:
        pod = self._api.read_pod(self.id)
        if pod is None:
            raise EngineError(f"pod {self.id} was removed by someone else")
        state = pod_state(pod)
        if state.exit is None:
            version = str(pod["metadata"].get("resourceVersion") or "")
            state = self._api.watch_until(
                self.id, version, lambda s: s.exit is not None, timeout_s
            )
        return state.exit or ExitInfo(exit_code=-1)

    def remove(self) -> None:
        self._streams.close()
        if not self._deleted:
            self._deleted = True
            self._api.delete(self.id, secret=self._secret)


def _settled(state: PodState) -> bool:
    return state.running or state.exit is not None or state.stuck is not None


def launch(api: PodApi, spec: ContainerSpec) -> KubePod:
    """A running task Pod, attached, waiting for its input on stdin."""
    name = api.pod_name()
    files = spec.secrets.files if spec.secrets is not None else ()
    secret = secret_manifest(name, files, spec.labels, api.owner) if files else None
    try:
        pod = pod_manifest(
            spec,
            name=name,
            pull_policy=api.pull_policy(spec.image),
            owner=api.owner,
            secret=name if secret else None,
        )
    except ValueError as exc:
        raise ImageFault(f"cannot create a Pod of {spec.image}: {exc}") from None
    version = api.create(pod, secret)
    try:
        return _attached(api, name, version, spec.image, secret=secret is not None)
    except BaseException:
        api.delete(name, secret=secret is not None)
        raise


def _attached(api: PodApi, name: str, version: str, image: str, *, secret: bool) -> KubePod:
    state = api.watch_until(name, version, _settled, START_TIMEOUT_S)
    if state.stuck is not None and state.exit is None:
        fault = ImageMissing if state.image_missing else ImageFault
        raise fault(f"pod {name} of {image} cannot start: {state.stuck}")
    if state.exit is None:
        output: Channels | None = None
        try:
            output = api.attach(name, stdin=False)
            streams = PodStreams(output, api.attach(name, stdin=True), name)
            return KubePod(api, name, streams, secret=secret)
        except EngineError:
            if output is not None:
                output.close()
            pod = api.read_pod(name)
            if pod is None or pod_state(pod).exit is None:
                raise
    # It exited before it could be attached (or while it was): its log says why.
    return KubePod(api, name, PodStreams(_Replay(api.log_tail(name)), None, name), secret=secret)


def catalog_text(output: str) -> str | None:
    """The catalog in what a `--catalog` Pod wrote (stdout and stderr merged in its log): the
    whole of it if it is a JSON array, else its last line that is one."""
    whole = output.strip()
    for candidate in (whole, *reversed(whole.splitlines())):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, list):
            return candidate.strip()
    return None


def read_catalog(api: PodApi, image: str) -> Mapping[str, str]:
    """The image's catalog label, from a Pod of it run once with the argument `--catalog`
    (the cluster cannot show an image's labels). ConfigError if the Pod cannot tell it."""
    name = api.pod_name()
    labels = {LABEL_RUNNER_ID: api.runner_id, LABEL_CATALOG_READ: "1"}
    spec = ContainerSpec(image=image, labels=labels, command=("--catalog",))
    pod = pod_manifest(
        spec, name=name, pull_policy=api.pull_policy(image), owner=api.owner, stdin=False
    )
    where = f"image {image}: its catalog cannot be read on Kubernetes (its Pod with --catalog"
    try:
        version = api.create(pod, None)
        state = api.watch_until(
            name, version, lambda s: s.exit is not None or s.stuck is not None,
            START_TIMEOUT_S + _CATALOG_RUN_S,
        )  # fmt: skip
        output = api.log_tail(name, None)
    except ImageFault as exc:
        raise ConfigError(f"{where}: {exc})") from None
    finally:
        api.delete(name, secret=False)
    if state.exit is None or state.exit.exit_code != 0:
        said = state.stuck or f"exited with code {state.exit.exit_code if state.exit else '?'}"
        raise ConfigError(f"{where} {said}: {output.strip()[-500:]})")
    text = catalog_text(output)
    if text is None:
        raise ConfigError(f"{where} printed no JSON array: {output.strip()[-500:]!r})")
    return {CATALOG_LABEL: text}
