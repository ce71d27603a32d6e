"""A refused connection, as each client of the runner meets it on 127.0.0.1: it says which
server was expected and how to start the local one, in one line."""

from __future__ import annotations

import pytest

from runner.core.errors import PlatformError
from runner.localserver.client import LocalClient
from runner.scenario.client import PlatformClient
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def test_the_runner_says_nothing_listens_and_how_to_start_the_local_server() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PlatformError) as raised:
        PlatformClient(url, "key", timeout_s=5).publish_catalog("ns", [])
    assert str(raised.value) == (
        f"publishing the catalog of ns: cannot reach {url}: connection refused: no server "
        "listens there (the local server starts with `xc-runner serve`)"
    )
    assert raised.value.transient


def test_the_local_commands_say_which_server_and_how_to_start_one() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PlatformError) as raised:
        LocalClient(url, "key", timeout_s=5).instance("5d1c0a2e")
    assert str(raised.value).startswith(
        f"no server answers at {url} (connection refused): start the local server with "
        "`xc-runner serve`"
    )
