"""{{name}}: the unit tests of its tasks, run in this process as the runner would run
them in a container (xc_task_testing.call), with no container engine:

    python3 -m pytest
"""

from __future__ import annotations

import tasks
from xc_task_testing import call


def test_hello_greets_as_many_times_as_asked() -> None:
    done = call(tasks, "hello", {"who": "you", "times": 2})
    assert done.status == "Completed"
    assert done.outputs == {"greeting": "Hello, you! Hello, you!"}
    assert done.progress == [(0.5, "greeting you 2 times")]


def test_hello_fails_on_a_times_that_is_not_a_number() -> None:
    done = call(tasks, "hello", {"who": "you", "times": "many"})
    assert done.status == "Error"
    assert done.message == 'input \'times\' is not an integer: "many"'
