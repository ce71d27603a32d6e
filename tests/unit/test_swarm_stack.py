"""scripts/swarm.py: what the stack is given, and bad command lines."""

from __future__ import annotations

import pytest

from scripts.swarm import _parser, _stack
from scripts.swarm_cluster import SwarmError
from scripts.swarm_stack import REPLICATED_FILE, STACK_FILE, Stack


def test_the_stop_grace_period_follows_the_drain() -> None:
    env = Stack(drain_timeout_s=50).environ()
    assert env["XC_RUNNER_DRAIN_TIMEOUT_S"] == "50"
    assert env["XC_RUNNER_STOP_GRACE_PERIOD"] == "70s"


def test_replicas_add_the_replicated_file_and_global_does_not() -> None:
    assert Stack(replicas=3).compose_args() == ["-c", str(STACK_FILE), "-c", str(REPLICATED_FILE)]
    assert Stack(replicas=None).compose_args() == ["-c", str(STACK_FILE)]
    assert Stack(replicas=None).environ()["XC_RUNNER_REPLICAS"] == "1"


def test_runner_ids_of_a_stack_share_a_prefix_of_their_own() -> None:
    assert Stack(name="xc").runner_id_prefix == "xc_runner-"
    assert not "xc2_runner-vm-1".startswith(Stack(name="xc").runner_id_prefix)


@pytest.mark.parametrize(("runners", "replicas"), [("3", 3), ("1", 1), ("global", None)])
def test_runners_on_the_command_line(runners: str, replicas: int | None) -> None:
    stack = _stack(_parser().parse_args(["up", "--runners", runners, "--name", "s", "--port", "9"]))
    assert (stack.name, stack.port, stack.replicas) == ("s", 9, replicas)


@pytest.mark.parametrize("runners", ["0", "-2", "two", ""])
def test_a_bad_runner_count_is_refused_by_name(runners: str) -> None:
    with pytest.raises(SwarmError, match="--runners must be a positive number or `global`"):
        _stack(_parser().parse_args(["up", "--runners", runners]))
