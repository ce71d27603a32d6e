"""The container engine on Docker: the only module that imports the docker SDK.

Docker's and its transport's exceptions become EngineError (or ConfigError for
a missing image) here, once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Mount, Ulimit

from runner.core.errors import ConfigError, EngineError, ImageFault, ImageMissing, in_words
from runner.engine.docker_container import DockerContainer
from runner.engine.imageids import Actions, ImageIds
from runner.engine.interface import ContainerSpec
from runner.engine.remover import Orphans

log = logging.getLogger(__name__)

# A ping is the engine's cheapest request: one not answered within this, it does not answer.
_PING_TIMEOUT_S = 3
# A build step may be silent that long (a compiler at work) before the build is given up.
_BUILD_TIMEOUT_S = 1800
Labels = Mapping[str, str]
# Requests to the engine; a transport failure is an OSError (requests' too).
_ENGINE_ERRORS = (DockerException, OSError)


@contextlib.contextmanager
def _engine_call(what: str, suspect: threading.Event | None = None) -> Iterator[None]:
    """Engine errors become EngineError; `suspect` is set so health is checked at once."""
    try:
        yield
    except NotFound:
        raise
    except _ENGINE_ERRORS as exc:
        if suspect is not None:
            suspect.set()
        raise EngineError(f"{what}: {in_words(exc)}") from exc


@contextlib.contextmanager
def _refused(what: str) -> Iterator[None]:
    """The engine refusing to create or start a container (4xx) is about that image or its
    container's settings, not the engine: ImageFault. (Inside `_engine_call`.)"""
    try:
        yield
    except NotFound:
        raise
    except APIError as exc:
        if exc.status_code is not None and 400 <= exc.status_code < 500:
            raise ImageFault(f"{what}: the engine refused it: {exc.explanation or exc}") from exc
        raise


def local_api(api: Any) -> Any:
    """Over the engine's local socket no proxy nor .netrc applies: requests' look-ups of
    them on every request (the whole environment scanned, files stat'ed: about a
    millisecond of CPU each, several per task) are skipped."""
    if str(api.base_url).startswith("http+docker://"):
        api.trust_env = False
    return api


class DockerEngine:
    def __init__(self, *, timeout_s: float = 60.0, pool_size: int = 16) -> None:
        with _engine_call("cannot reach the Docker engine (is it running? is DOCKER_HOST right?)"):
            self._client = docker.from_env(timeout=int(timeout_s), max_pool_size=pool_size)
            self._api = local_api(self._client.api)
            self._api.ping()
            # Health checks must not wait as long as a container creation may.
            self._probe = local_api(docker.from_env(timeout=_PING_TIMEOUT_S).api)
        self._suspect = threading.Event()  # an engine call failed: check health now
        self._orphans = Orphans()  # containers that could not be removed yet
        self._image_ids = ImageIds(self._inspect_id, self._image_events)

    def follow_image_events(self) -> None:
        """Image IDs answered from memory from now on (runner.engine.imageids)."""
        self._image_ids.start()

    def close(self) -> None:
        self._image_ids.close()
        self._probe.close()
        self._client.close()

    def call(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Around an engine request: its errors become EngineError naming `what`, and the
        engine's health is checked at once."""
        return _engine_call(what, self._suspect)

    def ping(self) -> None:
        """Ask the engine whether it answers (EngineError if not, within a few seconds); once
        it does, containers it failed to remove are removed."""
        self._suspect.clear()
        try:
            self._probe.ping()
        except _ENGINE_ERRORS as exc:
            raise EngineError(f"no answer to a ping: {in_words(exc)}") from exc
        self._remove_orphans()

    def wait_suspect(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for an engine request to fail; whether one did (the engine
        is worth pinging at once)."""
        return self._suspect.wait(timeout_s)

    def _remove(self, container_id: str) -> None:
        """Remove a container; if the engine cannot be reached, again once it answers."""
        try:
            self._api.remove_container(container_id, force=True)
        except NotFound:
            pass
        except _ENGINE_ERRORS as exc:
            self._orphans.failed(container_id, in_words(exc))
            return
        self._orphans.removed(container_id)

    def _remove_orphans(self) -> None:
        for container_id in self._orphans.pending():
            self._remove(container_id)

    def image_labels(self, image: str) -> Mapping[str, str]:
        info = self._inspect(image, f"image {image} not found in the engine (build it first)")
        labels: Mapping[str, str] = (info.get("Config") or {}).get("Labels") or {}
        return labels

    def image_id(self, image: str) -> str:
        """The ID of the image `image` names now (a tag moves when the image is rebuilt)."""
        return self._image_ids.image_id(image)

    def _inspect_id(self, image: str) -> str:
        info = self._inspect(image, f"image {image} not found in the engine (build it first)")
        return str(info["Id"])

    def _image_events(self) -> Actions:
        with self.call("cannot follow the engine's image events"):
            stream = self._probe.events(decode=True, filters={"type": "image"})
        return Actions(stream, lambda: _engine_call("the engine's image events stopped"))

    def image_digests(self, image: str) -> list[str]:
        """The image's RepoDigests (`repository@sha256:...`): empty if never pulled or pushed."""
        info = self._inspect(image, f"image {image} not found in the engine")
        digests: list[str] = info.get("RepoDigests") or []
        return digests

    def image_size(self, image: str) -> int:
        """The image's size in bytes, its base images' layers included."""
        size: int = self._inspect(image, f"image {image} not found in the engine")["Size"]
        return size

    def build(
        self, context: str, dockerfile: str, tag: str, args: Labels, labels: Labels, cache: bool
    ) -> Iterator[Mapping[str, Any]]:
        """Build `tag` from the folder `context` (its .dockerignore applies) with the
        Dockerfile at `dockerfile` inside it: the engine's events, as they come."""
        with self.call(f"cannot build {tag}"):
            yield from self._api.build(
                path=context, dockerfile=dockerfile, tag=tag, buildargs=dict(args),
                labels=dict(labels), nocache=not cache, rm=True, forcerm=True, decode=True,
                timeout=_BUILD_TIMEOUT_S,
            )

    def _inspect(self, image: str, missing: str) -> Mapping[str, Any]:
        """The engine's description of the image; ConfigError saying `missing` if it has none."""
        try:
            with self.call(f"cannot inspect image {image}"):
                try:
                    info: Mapping[str, Any] = self._api.inspect_image(image)
                except APIError as exc:  # a 400 is the engine's answer: the name is wrong
                    if exc.status_code != 400:
                        raise
                    raise ConfigError(f"image {image}: {exc.explanation or exc}") from None
        except (ImageNotFound, NotFound):
            raise ConfigError(missing) from None
        return info

    def remove_container(self, container_id: str) -> None:
        """Remove one container, running or not; again later if the engine does not answer."""
        self._remove(container_id)

    def runtimes(self) -> set[str]:
        with self.call("cannot read the engine's runtimes"):
            info = self._api.info()
        return set(info.get("Runtimes") or {})

    def launch(self, spec: ContainerSpec) -> DockerContainer:
        container_id = self._create(spec)
        try:
            what = f"cannot start container {container_id[:12]} of {spec.image}"
            with self.call(what), _refused(what):
                sock = self._api.attach_socket(
                    container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
                )
                self._api.start(container_id)
            return DockerContainer(self._api, container_id, sock, self)
        except BaseException:
            self._remove(container_id)
            raise

    def _create(self, spec: ContainerSpec) -> str:
        try:
            what = f"cannot create a container of {spec.image}"
            with self.call(what), _refused(what):
                created = self._api.create_container(
                    spec.image,
                    command=list(spec.command) if spec.command else None,
                    # stdin_open sets StdinOnce too: once the runner's attach stream
                    # closes stdin (or the runner dies), the task reads end of file.
                    stdin_open=True,
                    tty=False,
                    labels=dict(spec.labels),
                    user=spec.limits.user,
                    environment=dict(spec.env.variables),
                    host_config=self._host_config(spec),
                )
        except NotFound:
            raise ImageMissing(
                f"cannot create a container of {spec.image}: no such image in the engine"
            ) from None
        container_id: str = created["Id"]
        return container_id

    def _host_config(self, spec: ContainerSpec) -> Any:
        limits = spec.limits
        return self._api.create_host_config(
            network_mode=limits.network,
            read_only=True,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={limits.tmpfs_bytes}"},  # noqa: S108 -- a tmpfs inside the container
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            mem_limit=limits.memory_bytes,
            memswap_limit=limits.memory_bytes,
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.engine_pids,
            ulimits=[Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files)],
            init=True,
            # Output reaches the runner through attach; the engine keeps no log of it.
            log_config=LogConfig(type=LogConfig.types.NONE),
            runtime=limits.runtime or None,
            mounts=[
                Mount(target, source, type="bind", read_only=True) for source, target in spec.mounts
            ],
        )

    def remove_labelled(self, labels: Mapping[str, str]) -> list[str]:
        filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
        with self.call("cannot list containers"):
            found = self._api.containers(all=True, filters=filters)
        ids = [c["Id"] for c in found]
        for container_id in ids:
            self._remove(container_id)
        return ids
