"""Secrets given to task containers: each read from its file on the runner's host when a
container is created, copied into a private folder of the runner's, and bind-mounted
read-only at /run/secrets in that container alone; the copy is removed with the container.

The copy, rather than the host file itself, is what the container sees: the host file
may be readable by root only, while the task runs as another user (65534 by default);
the copy is readable by any user inside its container, and by nobody else on the
host, for its folder is private (mode 0700, the runner's own). The container cannot
change it: the mount is read-only. A file rotated on the host is read again by the
next container created.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import stat
import threading
import uuid
from collections.abc import Callable, Sequence
from hashlib import sha256
from pathlib import Path

from runner.core.errors import SecretError
from runner.core.secrets import MAX_SECRET_BYTES, SECRETS_MOUNT, SecretSnapshot, SecretSource
from runner.engine.interface import Chunk, ContainerSpec, ExitInfo, PoolContainer, PoolEngine
from runner.files import Unreadable, read_capped

_PRIVATE = 0o700
_FOLDER = 0o755  # a container's folder: its task's user lists it (inside the private one)
_FILE = 0o444


def read_secret(image: str, source: SecretSource) -> bytes:
    """The secret's content; SecretError naming the image, the secret and the file (never
    the content) when it is missing, unreadable, not a plain file, empty or too large."""
    where = f"image {image}: secret {source.name} ({source.path})"
    try:
        content = read_capped(source.path, MAX_SECRET_BYTES)  # links followed: k8s secrets
    except Unreadable as exc:
        raise SecretError(f"{where} cannot be read: {exc}") from None
    if not content.strip():
        raise SecretError(f"{where} is empty")
    return content


class SecretReader:
    """Reads an image's secrets into a snapshot. Each content it has not read before is told
    to `on_new` (which keeps it out of every log line and status)."""

    def __init__(self, on_new: Callable[[bytes], None] = lambda _: None) -> None:
        self._on_new = on_new
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def snapshot(self, image: str, sources: Sequence[SecretSource]) -> SecretSnapshot:
        files = tuple((source.name, read_secret(image, source)) for source in sources)
        for _, content in files:
            digest = sha256(content).hexdigest()
            with self._lock:
                new = digest not in self._seen
                self._seen.add(digest)
            if new:
                self._on_new(content)
        return SecretSnapshot(files)


class SecretFiles:
    """The runner's folder of secret copies, `base/runner-id/one-folder-per-container/NAME`,
    or `base/xc-runner-UID/runner-id/...` when the base is shared (the sticky bit: /dev/shm,
    /tmp). The base's mode is never changed: the folders the runner makes are private."""

    def __init__(self, base: Path, runner_id: str) -> None:
        self.base = base
        self.runner_id = runner_id
        self.root: Path | None = None  # the runner id's folder, once checked
        self._lock = threading.Lock()

    def check(self) -> Path:
        """Make the runner id's folder, private, and return it; SecretError if the base is
        not safe to use: a link, another user's, or a folder others can write in without
        the sticky bit (they could replace what the runner puts there)."""
        with self._lock:
            try:
                self.root = _private(self._home() / self.runner_id)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise SecretError(f"cannot use the secrets folder {self.base}: {reason}") from None
            return self.root

    def _home(self) -> Path:
        """The base, made (private) if it is not there; in a shared base, a private folder
        of the runner's user inside it."""
        with contextlib.suppress(FileExistsError):
            self.base.mkdir(mode=_PRIVATE, parents=True)
        info = _folder(self.base)
        uid = os.getuid()
        if info.st_mode & stat.S_ISVTX and info.st_uid in (uid, 0):
            return _private(self.base / f"xc-runner-{uid}")
        if info.st_uid != uid:
            raise SecretError(
                f"the secrets folder {self.base} belongs to uid {info.st_uid}, not to the "
                f"runner's user ({uid}): give it another --secrets-dir"
            )
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise SecretError(
                f"the secrets folder {self.base} can be written by other users (mode "
                f"{stat.S_IMODE(info.st_mode):o}) and has no sticky bit: they could replace "
                "what the runner puts there; give --secrets-dir a folder of the runner's own"
            )
        return self.base

    def write(self, snapshot: SecretSnapshot) -> Path:
        """A new folder holding a copy of each secret, readable inside a container."""
        root = self.root if self.root is not None and self.root.is_dir() else self.check()
        folder = root / uuid.uuid4().hex
        try:
            folder.mkdir(mode=_PRIVATE)
            for name, content in snapshot.files:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                handle = os.open(folder / name, flags, 0o600)
                with os.fdopen(handle, "wb") as out:
                    out.write(content)
                    os.fchmod(out.fileno(), _FILE)
            os.chmod(folder, _FOLDER)
        except OSError as exc:
            self.remove(folder)
            raise SecretError(f"cannot copy secrets into {root}: {exc.strerror}") from None
        return folder

    def remove(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def clear(self) -> None:
        """Remove every copy of this runner id's (an earlier run's too), once the folder
        was checked: nothing is removed that the runner may not have made."""
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def _folder(path: Path) -> os.stat_result:
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SecretError(f"the secrets folder {path} is not a folder")
    return info


def _private(path: Path) -> Path:
    """`path`, a folder of the runner's user that no one else can enter: made so if it is
    not there; SecretError if it is there and is not (its mode is left as it is)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=_PRIVATE)
    info = _folder(path)
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise SecretError(
            f"the secrets folder {path} is not the runner's own private folder (uid "
            f"{info.st_uid}, mode {stat.S_IMODE(info.st_mode):o}): remove it, and the runner "
            "makes it again"
        )
    return path


class WithSecrets:
    """A container and its secrets' folder, removed after it."""

    def __init__(self, inner: PoolContainer, folder: Path, files: SecretFiles) -> None:
        self.id = inner.id
        self.warm = inner.warm
        self._inner = inner
        self._folder = folder
        self._files = files

    def send(self, data: bytes) -> None:
        self._inner.send(data)

    def read(self, timeout_s: float) -> list[Chunk] | None:
        return self._inner.read(timeout_s)

    def stop(self, grace_s: float) -> None:
        self._inner.stop(grace_s)

    def wait(self, timeout_s: float) -> ExitInfo:
        return self._inner.wait(timeout_s)

    def alive(self) -> bool:
        return self._inner.alive()

    def early_stderr(self) -> str:
        return self._inner.early_stderr()

    def remove(self) -> None:
        try:
            self._inner.remove()
        finally:
            self._files.remove(self._folder)


class SecretLauncher:
    """In front of the engine: a container whose image declares secrets gets them. With
    `copies` off, the engine is handed the secrets as read, and gives them to the container
    itself (Kubernetes: a Secret object), and no file is copied on the runner's host."""

    def __init__(
        self, engine: PoolEngine, reader: SecretReader, files: SecretFiles, *, copies: bool = True
    ) -> None:
        self._engine = engine
        self.reader = reader
        self.files = files
        self.copies = copies

    def image_id(self, image: str) -> str:
        return self._engine.image_id(image)

    def snapshot(self, image: str, sources: Sequence[SecretSource]) -> SecretSnapshot:
        return self.reader.snapshot(image, sources)

    def launch(self, spec: ContainerSpec) -> PoolContainer:
        if not spec.env.secrets:
            return self._engine.launch(spec)
        snapshot = spec.secrets or self.reader.snapshot(spec.image, spec.env.secrets)
        if not self.copies:
            return self._engine.launch(dataclasses.replace(spec, secrets=snapshot))
        folder = self.files.write(snapshot)
        mounted = dataclasses.replace(spec, mounts=(*spec.mounts, (str(folder), SECRETS_MOUNT)))
        try:
            inner = self._engine.launch(mounted)
        except BaseException:
            self.files.remove(folder)
            raise
        return WithSecrets(inner, folder, self.files)
