"""A real registry for the tests: Debian's docker-registry (the distribution registry 2.8) on a
loopback port, its storage in a temporary folder, with htpasswd (bcrypt) credentials; and
the task image of tests/images/registry, built, pushed and removed.

The engine reaches a registry on 127.0.0.0/8 over plain HTTP without any configuration
(its default insecure range), under either name, 127.0.0.1:PORT or localhost:PORT: a
build pushed under the other name moves the registry's tag and not the engine's.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import docker
import requests

from runner.core.catalog import CATALOG_LABEL
from tests.conftest import REPO, build_image, free_port, unavailable
from tests.integration.processes import terminate

IMAGE_FOLDER = REPO / "tests" / "images" / "registry"
REGISTRY_BINARY = "/usr/bin/docker-registry"
HTPASSWD = "/usr/bin/htpasswd"
USER = "xc-tester"
PASSWORD = "pa55-w0rd-of-the-test-registry"


class Registry:
    """`docker-registry serve` on 127.0.0.1:PORT, with htpasswd credentials."""

    def __init__(self) -> None:
        if not (Path(REGISTRY_BINARY).exists() and Path(HTPASSWD).exists()):
            unavailable("no docker-registry or htpasswd here (make test installs them)")
        self.folder = Path(tempfile.mkdtemp(prefix="xc-test-registry-"))
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.alias = f"localhost:{self.port}"
        self.docker_config = self.folder / "docker-config"  # the runner's DOCKER_CONFIG
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_config()

    def _write_config(self) -> None:
        htpasswd = subprocess.run(
            [HTPASSWD, "-Bbn", USER, PASSWORD], capture_output=True, check=True, timeout=30
        ).stdout
        (self.folder / "htpasswd").write_bytes(htpasswd)
        (self.folder / "config.yml").write_text(
            json.dumps(  # YAML is a superset of JSON
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {"filesystem": {"rootdirectory": str(self.folder / "data")}},
                    "http": {"addr": self.host, "secret": "xc-test-registry"},
                    "auth": {
                        "htpasswd": {"realm": "xc-test", "path": str(self.folder / "htpasswd")}
                    },
                }
            )
        )
        write_docker_config(self.docker_config, [self.host, self.alias], USER, PASSWORD)

    def start(self) -> None:
        with (self.folder / "registry.log").open("ab") as log:
            self._proc = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.folder / "config.yml")],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log_text = (self.folder / "registry.log").read_text()
                raise AssertionError(f"the registry exited: {log_text}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"http://{self.host}/v2/", timeout=2).status_code == 401:
                    return
            time.sleep(0.05)
        raise AssertionError("the registry did not answer within 30 s")

    def stop(self) -> None:
        if self._proc is not None:
            terminate(self._proc, 15)
        self._proc = None

    def close(self) -> None:
        self.stop()
        remove_images_of(self.host, self.alias)
        shutil.rmtree(self.folder, ignore_errors=True)


def write_docker_config(folder: Path, hosts: list[str], user: str, password: str) -> Path:
    """A docker client configuration folder (DOCKER_CONFIG) with these credentials."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {h: {"auth": auth} for h in hosts}}))
    return folder


def build_task_image(tag: str, build: str = "1", namespace: str = "registry") -> str:
    """tests/images/registry as `tag`: its build number in TASK_BUILD, its tasks in
    `namespace`; its image ID."""
    catalog = json.loads((IMAGE_FOLDER / "catalog.json").read_text())
    for definition in catalog:
        definition["namespace"] = namespace
    return build_image(
        IMAGE_FOLDER, tag, {CATALOG_LABEL: json.dumps(catalog)}, buildargs={"BUILD": build}
    )


def push(tag: str) -> str:
    """Push `tag` with the test registry's credentials; the digest the registry gave it."""
    repository, _, name = tag.rpartition(":")
    client = docker.from_env(timeout=300)
    try:
        digest = None
        events: Any = client.api.push(
            repository,
            name,
            stream=True,
            decode=True,
            auth_config={"username": USER, "password": PASSWORD},
        )
        for event in events:
            assert "error" not in event, event
            digest = (event.get("aux") or {}).get("Digest", digest)
        assert digest, f"no digest for {tag}"
        return str(digest)
    finally:
        client.close()


def image_id(reference: str) -> str | None:
    client = docker.from_env()
    try:
        return str(client.api.inspect_image(reference)["Id"])
    except docker.errors.ImageNotFound:
        return None
    finally:
        client.close()


def remove_images_of(*hosts: str) -> None:
    """Every name of an image in these registries (pushed or pulled by the tests): an image
    left with no name goes with it."""
    client = docker.from_env()
    try:
        for image in client.api.images(all=True):
            names = [*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])]
            for name in names:
                if any(name.startswith(f"{host}/") for host in hosts):
                    with contextlib.suppress(docker.errors.APIError):
                        client.api.remove_image(name)
    finally:
        client.close()
