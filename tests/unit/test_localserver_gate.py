"""Who may talk to the local server (gate.py) and which statuses it stores (rules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from runner.localserver.gate import Gate, host_name, is_loopback
from runner.localserver.rules import StatusConflict, next_state, repeat_of

KEY = "s3cret-ключ"


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.5.6.7", "::1", "localhost", "LOCALHOST", "[::1]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "10.0.0.1", "example.com", "localhost.example"):
        assert not is_loopback(host), host


def test_host_names() -> None:
    assert host_name("127.0.0.1:8077") == "127.0.0.1"
    assert host_name("LocalHost") == "localhost"
    assert host_name("[::1]:80") == "[::1]"
    assert host_name("[::1]") == "[::1]"
    assert host_name("a:b:c") is None
    assert host_name("localhost:80x") is None


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8077", "localhost", "Localhost:1", "[::1]", "[::1]:8077"]
)
def test_loopback_names_pass(host: str) -> None:
    assert Gate(KEY, "127.0.0.1").refusal(host, f"bearer {KEY}") is None


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "evil.example",
        "evil.example:8077",
        "127.0.0.1.nip.io",
        "127.0.0.2",
        "[::2]",
        "::1",
    ],
)
def test_other_names_are_refused_on_loopback(host: str | None) -> None:
    refused = Gate(KEY, "127.0.0.1").refusal(host, f"bearer {KEY}")
    assert refused is not None and refused.status == 403
    assert "loopback" in refused.message


def test_host_checks_follow_the_listening_address() -> None:
    assert Gate(KEY, "127.0.0.2").refusal("127.0.0.2:1", f"bearer {KEY}") is None
    assert Gate(KEY, "::1").refusal("[::1]", f"bearer {KEY}") is None
    wide = Gate(KEY, "0.0.0.0")
    assert wide.refusal("runner.example:8077", f"bearer {KEY}") is None, "the key protects it"
    assert wide.refusal("runner.example", "bearer nope") is not None


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (None, "header missing"),
        ("", "header missing"),
        (f"Basic {KEY}", "scheme 'Basic'"),
        ("bearer wrong", "wrong API key"),
        (f"bearer {KEY}x", "wrong API key"),
        ("bearer", "wrong API key"),
    ],
)
def test_key_refusals(header: str | None, named: str) -> None:
    refused = Gate(KEY, "127.0.0.1").refusal("localhost", header)
    assert refused is not None and refused.status == 401 and named in refused.message


def test_key_as_sent_on_the_wire() -> None:
    # Header values arrive decoded as latin-1; a UTF-8 key is compared as the bytes sent.
    wire = f"Bearer  {KEY} ".encode().decode("latin-1")
    assert Gate(KEY, "127.0.0.1").refusal("localhost", wire) is None


# -- state rules -----------------------------------------------------------------

DONE = {"seq": 7, "status": "Completed", "message": "", "outputValues": {"a": [1, 2]}}


def status(state: str, **fields: Any) -> dict[str, Any]:
    return {"taskInstanceId": "i", "status": state, **fields}


def test_a_terminal_state_is_final() -> None:
    assert next_state("Taken", "InProgress") == "InProgress"
    assert next_state("InProgress", "Completed") == "Completed"
    assert next_state("Completed", "InProgress") == "Completed"
    assert next_state("Error", "Completed") == "Error"


def test_statuses_before_the_end_are_new() -> None:
    for state in ("Taken", "InProgress"):
        assert repeat_of("i", state, None, status("InProgress")) is None
        assert repeat_of("i", state, None, status("Completed")) is None


def test_never_handed_out_is_a_conflict() -> None:
    with pytest.raises(StatusConflict, match="never handed out"):
        repeat_of("i", "Queued", None, status("InProgress"))


def test_only_the_same_terminal_status_repeats() -> None:
    same = status("Completed", message="", outputValues={"a": [1, 2]})
    assert repeat_of("i", "Completed", DONE, same) == 7
    for other in (
        status("Completed", message="", outputValues={"a": [1]}),
        status("Completed", message="x", outputValues={"a": [1, 2]}),
        status("Completed", outputValues={"a": [1, 2]}),  # no message is not ""
        status("Error", message=""),
        status("InProgress"),
    ):
        with pytest.raises(StatusConflict, match=r"already ended with Completed \(seq 7\)"):
            repeat_of("i", "Completed", DONE, other)
