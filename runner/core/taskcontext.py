"""Which task instance the current code is working for, so that every log line about a task
carries its namespace, task and instance id as fields, whichever thread logs it.

The executor sets it for the task's thread (`about_task`); code that has only an instance
id at hand, such as status delivery, sets it with `about_instance`, which finds the
namespace and task of the instances this process has seen, until they are forgotten
(`forget`, once an instance's terminal status is delivered), so that what is remembered
does not grow with every task run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_KNOWN_MAX = 4096  # instances remembered for `about_instance`, at most; the oldest go first


@dataclass(frozen=True)
class TaskFields:
    instance_id: str
    namespace: str | None = None
    task: str | None = None


_current: ContextVar[TaskFields | None] = ContextVar("xc_runner_task", default=None)
_known: OrderedDict[str, TaskFields] = OrderedDict()
_known_lock = threading.Lock()


def current_task() -> TaskFields | None:
    return _current.get()


@contextmanager
def about_task(
    namespace: str, task: str, instance_id: str | int, *, remember: bool = True
) -> Iterator[None]:
    """Within it, log lines are about this task instance. `remember`: `about_instance`
    finds its namespace and task too, until it is forgotten."""
    fields = TaskFields(str(instance_id), namespace, task)
    if remember:
        with _known_lock:
            _known[fields.instance_id] = fields
            _known.move_to_end(fields.instance_id)
            while len(_known) > _KNOWN_MAX:
                _known.popitem(last=False)
    with _about(fields):
        yield


def forget(instance_id: str | int) -> None:
    """`about_instance` no longer needs this instance's namespace and task."""
    with _known_lock:
        _known.pop(str(instance_id), None)


def remembered() -> int:
    """How many instances are remembered now."""
    with _known_lock:
        return len(_known)


@contextmanager
def about_instance(instance_id: str | int) -> Iterator[None]:
    """Within it, log lines are about this instance, with its namespace and task if known."""
    key = str(instance_id)
    with _known_lock:
        fields = _known.get(key) or TaskFields(key)
    with _about(fields):
        yield


@contextmanager
def _about(fields: TaskFields) -> Iterator[None]:
    token = _current.set(fields)
    try:
        yield
    finally:
        _current.reset(token)
