"""The command line as a user meets it: bad settings of any command are named, exit 3,
and never end in a traceback."""

from __future__ import annotations

import pytest

from tests.conftest import xc_runner


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["serve"], {"XC_LOCAL_PORT": "abc"}, "XC_LOCAL_PORT: not a port number: 'abc'"),
        (["serve", "--port", "70000"], {}, "--port: a port is 0 to 65535, got 70000"),
        (["serve", "--host", "a b"], {}, "--host: not a host name or address: 'a b'"),
        (["serve"], {"XC_SCENARIO_APIKEY": " "}, "XC_SCENARIO_APIKEY: the API key is empty"),
        (["demo"], {"XC_LOCAL_PORT": "-1"}, "XC_LOCAL_PORT: a port is 0 to 65535, got -1"),
        (["status", "x"], {"XC_LOCAL_PORT": "http"}, "XC_LOCAL_PORT: not a port number"),
        (["watch"], {"XC_LOCAL_PORT": "1e3"}, "XC_LOCAL_PORT: not a port number: '1e3'"),
        (["--log-level", "LOUD", "serve"], {}, "--log-level: not a log level: 'LOUD'"),
        (["serve"], {"XC_RUNNER_LOG_LEVEL": "verbose"}, "XC_RUNNER_LOG_LEVEL: not a log level"),
        (["run", "img"], {"XC_RUNNER_CONCURRENCY": "many"}, "not a whole number: 'many'"),
        (["--log-format", "xml", "serve"], {}, "--log-format: not a log format: 'xml'"),
        (["serve"], {"XC_RUNNER_LOG_FORMAT": "yaml"}, "XC_RUNNER_LOG_FORMAT: not a log format"),
        (["run", "img"], {"XC_RUNNER_HTTP_ADDR": "9180"}, "XC_RUNNER_HTTP_ADDR: not HOST:PORT"),
    ],
)
def test_a_bad_setting_is_one_clear_line_and_exit_3(
    argv: list[str], env: dict[str, str], says: str
) -> None:
    result = xc_runner(*argv, env=env, timeout_s=60)
    assert result.returncode == 3, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
