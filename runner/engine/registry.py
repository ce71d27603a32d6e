"""Registries, through the Docker engine: the digest a tag names there now, and pulls.

The only module besides runner.engine.docker_engine that imports the docker SDK; its
errors become RegistryError here. The credentials are the engine client's usual ones:
DOCKER_CONFIG (else ~/.docker/config.json) of the runner's user, read again before each
question, so a `docker login` on the host is enough, even after the runner started.
The engine asks the registry; the runner only needs to reach the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import docker
from docker.errors import APIError, DockerException

from runner.core.errors import EngineError, RegistryError, in_words
from runner.core.pulling import image_ref

log = logging.getLogger(__name__)

# What the engine says when a registry wants other credentials (or hides an image from
# those given: Docker Hub says "pull access denied").
_REFUSED = (
    "unauthorized",
    "authentication required",
    "no basic auth credentials",
    "denied",
    "incorrect username or password",
)
_UNKNOWN = ("manifest unknown", "not found", "name unknown")
# A pull's events may be minutes apart only if a layer is huge and the link slow.
_TIMEOUT_S = 300

OnEvent = Callable[[Mapping[str, Any]], None]


def _translate(image: str, exc: Exception) -> RegistryError:
    registry = image_ref(image).registry
    text = str(getattr(exc, "explanation", None) or exc).strip()
    lowered = text.lower()
    status = getattr(exc, "status_code", None)
    if status in (401, 403) or any(word in lowered for word in _REFUSED):
        return RegistryError(
            f"registry {registry} refused to serve image {image} with the runner's credentials "
            f"({text}); log in as the runner's user (`docker login {registry}`, or set "
            "DOCKER_CONFIG to a folder whose config.json has them)",
            kind="refused",
        )
    if status == 404 or any(word in lowered for word in _UNKNOWN):
        return RegistryError(f"registry {registry} has no image {image} ({text})", kind="unknown")
    return RegistryError(
        f"cannot reach registry {registry} for image {image}: {text}", kind="unreachable"
    )


@contextmanager
def _asking(image: str) -> Iterator[None]:
    try:
        yield
    except (DockerException, OSError) as exc:
        raise _translate(image, exc) from None


class DockerRegistry:
    """Asks registries about images and pulls them, on a connection to the engine of its
    own (a long pull holds no connection a task needs)."""

    def __init__(self) -> None:
        try:
            self._api = docker.from_env(timeout=_TIMEOUT_S).api
        except (DockerException, OSError) as exc:
            raise EngineError(f"cannot reach the Docker engine: {in_words(exc)}") from exc

    def close(self) -> None:
        self._api.close()

    def remote_digest(self, image: str) -> str:
        """The digest of the manifest the image's tag names in its registry now (without
        pulling it)."""
        with _asking(image):
            self._api.reload_config()
            answer = self._api.inspect_distribution(image)
        digest: str = answer["Descriptor"]["digest"]
        return digest

    def pull(self, image: str, on_event: OnEvent) -> None:
        """Pull the image, handing each progress event to `on_event`."""
        repository, tag = docker.utils.parse_repository_tag(image)
        with _asking(image):
            self._api.reload_config()
            for event in self._api.pull(repository, tag=tag, stream=True, decode=True):
                on_event(event)
                if event.get("error"):
                    detail = event.get("errorDetail") or {}
                    raise _translate(image, APIError(str(detail.get("message") or event["error"])))

    def credentials(self) -> list[str]:
        """The passwords and tokens of the client's configuration file, to keep out of logs."""
        try:
            auths = docker.auth.load_config().get("auths") or {}
        except (DockerException, OSError, ValueError) as exc:
            log.debug("cannot read the registry credentials: %s", exc)
            return []
        return [
            str(value)
            for entry in auths.values()
            for key in ("password", "identitytoken", "registrytoken")
            if (value := (entry or {}).get(key))
        ]
