"""The platform's task queue as the worker loop sees it: a TaskInstance, or None."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from runner.core.errors import PlatformError, StateError
from runner.core.model import TaskInstance

log = logging.getLogger(__name__)


class Poller(Protocol):
    def poll(self, namespace: str, name: str | None = None) -> Mapping[str, Any] | None:
        """The platform's JSON for a task taken off the queue, or None when it is empty."""


class InstanceCheck(Protocol):
    def check(self, name: str, instance: Any, noun: str) -> str | None:
        """What is wrong with `instance` against the schema file `name`, or None."""


class Journal(Protocol):
    def taken(self, instance: TaskInstance) -> None:
        """Record that `instance` was taken off the queue."""


class PlatformQueue:
    """Polls the platform; every instance handed out is journaled before it is returned."""

    def __init__(self, client: Poller, contracts: InstanceCheck, journal: Journal) -> None:
        self._client = client
        self._contracts = contracts
        self._journal = journal

    def poll(self, namespace: str, name: str | None = None) -> TaskInstance | None:
        raw = self._client.poll(namespace, name)
        if raw is None:
            return None
        instance = self.instance(raw, namespace)
        try:
            self._journal.taken(instance)
        except StateError as exc:  # run it all the same; only a crash now would go unreported
            log.error("%s: %s", instance.ref, exc)
        return instance

    def instance(self, raw: Mapping[str, Any], namespace: str) -> TaskInstance:
        """The TaskInstance of the platform's JSON; one that breaks the schema is kept, with
        its `rejection`, so that it still gets an Error status."""
        instance_id = raw.get("id")
        if isinstance(instance_id, bool) or not isinstance(instance_id, str | int):
            raise PlatformError(
                f"polling {namespace}: a task instance without a usable id: {str(raw)[:300]}",
                transient=False,
            )
        problem = self._contracts.check("task-instance.schema.json", raw, "task instance")
        input_data = raw.get("inputData")
        timeout_ms = raw.get("timeOutInMillis")
        return TaskInstance(
            id=instance_id,
            namespace=str(raw.get("catalogTaskDefinitionNamespace") or namespace),
            name=str(raw.get("catalogTaskDefinitionName") or "?"),
            input_data=input_data if isinstance(input_data, dict) else {},
            timeout_ms=timeout_ms if isinstance(timeout_ms, int) else None,
            rejection=f"malformed task instance from the platform: {problem}" if problem else None,
        )
