"""A task container on Docker, once started: its attach socket, its stop, its exit and its
removal (the rest of the Docker adapter is docker_engine.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docker.errors import NotFound

from runner.core.errors import EngineError
from runner.engine.interface import Chunk, ExitInfo
from runner.engine.stream import AttachStream

if TYPE_CHECKING:
    from runner.engine.docker_engine import DockerEngine


class DockerContainer:
    """A started container, its stdin/stdout/stderr on one attach socket."""

    def __init__(self, api: Any, container_id: str, sock_io: Any, engine: DockerEngine) -> None:
        self.id = container_id
        self.warm = False
        self._api = api
        self._engine = engine
        self._stream = AttachStream(sock_io, container_id[:12], engine._suspect.set)

    def send(self, data: bytes) -> None:
        self._stream.send(data)

    def read(self, timeout_s: float) -> list[Chunk] | None:
        return self._stream.read(timeout_s)

    def alive(self) -> bool:
        """While it waits for its task: keep what it wrote so far; False once it has ended."""
        return self._stream.drain()

    def early_stderr(self) -> str:
        return self._stream.stderr_tail()

    def stop(self, grace_s: float) -> None:
        # The output is not read after a stop. Closing the attach stream first
        # matters: the engine's stop does not return while its copy of a fast
        # writer's output is blocked on a stream nobody reads.
        self._stream.close()
        try:
            with self._engine.call(f"cannot stop container {self.id[:12]}"):
                self._api.stop(self.id, timeout=max(round(grace_s), 0))
        except NotFound:
            pass

    def wait(self, timeout_s: float) -> ExitInfo:
        try:
            with self._engine.call(f"container {self.id[:12]} did not report its exit"):
                status = self._api.wait(self.id, timeout=timeout_s)
                code = int(status.get("StatusCode", -1))
                oom = False
                if code != 0:
                    oom = bool(self._api.inspect_container(self.id)["State"].get("OOMKilled"))
        except NotFound:
            raise EngineError(f"container {self.id[:12]} was removed by someone else") from None
        return ExitInfo(exit_code=code, oom_killed=oom)

    def remove(self) -> None:
        self._stream.close()
        self._engine._remove(self.id)
