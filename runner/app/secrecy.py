"""Per-image secrets, from the runner's side: each file checked at start-up, every content
read kept out of the logs and the statuses, and the folder of the containers' copies made
private (and emptied of an earlier run's)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.core.errors import ConfigError, SecretError
from runner.core.model import TaskStatus
from runner.core.policy import PolicyTable
from runner.core.secrets import redactable
from runner.engine.interface import PoolEngine
from runner.engine.secrets import SecretFiles, SecretLauncher, SecretReader
from runner.ops.logs import MIN_SECRET_CHARS, redact, redacted
from runner.worker.delivery import StatusSink

log = logging.getLogger(__name__)


def keep_out_of_logs(content: bytes) -> None:
    """Every log line, in either format, and every status shows <redacted> instead."""
    for text in redactable(content):
        redact(text)


def secret_launcher(
    engine: PoolEngine, secrets_dir: Path, runner_id: str, *, copies: bool = True
) -> SecretLauncher:
    """In front of the engine: each container gets its image's secrets, read as it is made
    (every content read is kept out of the logs), copied under `secrets_dir/runner_id`
    (unless the engine gives them itself: `copies` off)."""
    files = SecretFiles(secrets_dir, runner_id)
    return SecretLauncher(engine, SecretReader(keep_out_of_logs), files, copies=copies)


def check_secrets(policies: PolicyTable, reader: SecretReader, files: SecretFiles | None) -> bool:
    """Read every image's secrets once (ConfigError naming the image and the secret, never
    its content, when one cannot be used); whether any image has secrets. Their copies'
    folder is made ready, if there is one (what an earlier run left there is the caller's to
    clear, once it holds the runner id)."""
    found = False
    for image, policy in policies.images.items():
        names = policy.env.names()
        if names:
            log.info("image %s: its tasks get %s", image, names)
        if not policy.env.secrets:
            continue
        found = True
        try:
            snapshot = reader.snapshot(image, policy.env.secrets)
        except SecretError as exc:
            raise ConfigError(str(exc)) from None
        for name, content in snapshot.files:
            if len(content.strip()) < MIN_SECRET_CHARS:
                log.warning(
                    "image %s: secret %s is shorter than %d characters: the logs cannot hide it",
                    image,
                    name,
                    MIN_SECRET_CHARS,
                )
    if found and files is not None:
        try:
            files.check()
        except SecretError as exc:
            raise ConfigError(str(exc)) from None
    return found


class RedactedStatuses:
    """A status sink that replaces every secret in a status's message and outputs (say, a
    task's stderr quoted in its Error) before the status is kept or sent."""

    def __init__(self, inner: StatusSink) -> None:
        self._inner = inner

    def submit(self, status: TaskStatus) -> None:
        self._inner.submit(
            dataclasses.replace(
                status, message=redacted(status.message), output_values=_clean(status.output_values)
            )
        )


def redacting(sink: StatusSink, secrets: bool) -> StatusSink:
    """`sink`, behind a RedactedStatuses when there are secrets to keep out of it."""
    return RedactedStatuses(sink) if secrets else sink


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redacted(value)
    if isinstance(value, Mapping):
        return {redacted(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
