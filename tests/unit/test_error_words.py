"""An engine's transport error in words (runner.core.errors.in_words): what the runner
says when the engine's connection breaks, as a dockerd restart in the middle of a task
does, without the reprs of the errors it wraps."""

from __future__ import annotations

import pytest
import requests
import urllib3

from runner.core.errors import in_words


def test_a_lost_connection_reads_as_what_happened_to_it() -> None:
    lost = requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", FileNotFoundError(2, "No such file or directory")
        )
    )
    assert str(lost) == (
        "('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"
    )
    assert in_words(lost) == "Connection aborted: No such file or directory"


def test_a_reset_reads_as_the_system_says_it() -> None:
    reset = requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
        )
    )
    assert in_words(reset) == "Connection aborted: Connection reset by peer"


@pytest.mark.parametrize(
    "error",
    [
        OSError(2, "No such file or directory", "/var/run/docker.sock"),
        RuntimeError("500 Server Error: no space left on device"),
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
        ValueError(),
    ],
)
def test_an_error_that_wraps_none_reads_as_its_own_text(error: BaseException) -> None:
    assert in_words(error) == str(error)


def test_a_wrapped_error_without_text_is_named_and_a_loop_ends() -> None:
    assert in_words(OSError("Connection aborted.", TimeoutError())) == (
        "Connection aborted: TimeoutError"
    )
    looped = OSError("outer")
    looped.args = ("outer", looped)
    assert in_words(looped) == str(looped)


class Explained(OSError):
    """An error that says what it wraps itself, as the docker SDK's APIError does."""

    def __str__(self) -> str:
        return "500 Server Error: mkdir /var/lib/docker/x: no space left on device"


def test_an_error_that_explains_itself_is_not_unwrapped() -> None:
    explained = Explained(requests.exceptions.HTTPError("500 Server Error"))
    assert in_words(explained) == str(explained)
    assert in_words(OSError("Engine trouble.", explained)) == (
        f"Engine trouble: {explained}"
    )
