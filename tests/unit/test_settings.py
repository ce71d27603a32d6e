"""Settings: flags beat the environment, which beats defaults; bad values are named."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from runner.config.options import add_options, parse_bytes, parse_host_port
from runner.config.policy import POLICY_OPTIONS
from runner.config.settings import RUNNER_OPTIONS, runner_settings
from runner.core.errors import ConfigError, SettingError

BASE_ENV = {"XC_SCENARIO_SERVER": "http://platform:8080/", "XC_SCENARIO_APIKEY": "k3y-5ecret"}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("images", nargs="*")
    add_options(parser, RUNNER_OPTIONS + POLICY_OPTIONS)
    return parser.parse_args(argv)


def test_defaults_from_the_environment_and_flags_override() -> None:
    env = {
        **BASE_ENV,
        "XC_RUNNER_CONCURRENCY": "3",
        "XC_RUNNER_MEMORY": "1g",
        "XC_RUNNER_IMAGES": "a:1, b:2",
    }
    settings = runner_settings(parse(["--concurrency", "8"]), env)
    assert settings.server_url == "http://platform:8080"
    assert settings.concurrency == 8
    assert settings.images == ("a:1", "b:2")
    assert settings.policies.default.limits.memory_bytes == 1024**3
    assert runner_settings(parse(["img"]), env).images == ("img",)


def test_the_api_key_is_never_shown() -> None:
    settings = runner_settings(parse(["img"]), BASE_ENV)
    assert "k3y-5ecret" not in repr(settings)
    assert "k3y-5ecret" not in settings.describe()


@pytest.mark.parametrize(
    ("argv", "env", "words"),
    [
        (["img", "--concurrency", "0"], {}, "--concurrency: must be 1 to 256"),
        (
            ["img"],
            {"XC_RUNNER_CONCURRENCY": "many"},
            "XC_RUNNER_CONCURRENCY: not a whole number: 'many'",
        ),
        (["img", "--memory", "lots"], {}, "--memory: not a size: 'lots'"),
        (
            ["img"],
            {"XC_RUNNER_TASK_TIMEOUT_S": "-1"},
            "XC_RUNNER_TASK_TIMEOUT_S: must be 0.01 to 2592000",
        ),
        (["img"], {"XC_RUNNER_REMOVE_PREVIOUS_TASKS": "perhaps"}, "not a boolean: 'perhaps'"),
        ([], {}, "no task image given"),
        (["img"], {"XC_SCENARIO_SERVER": "platform:80"}, "must be an http(s) URL"),
        (["img"], {"XC_SCENARIO_APIKEY": ""}, "XC_SCENARIO_APIKEY: the API key is empty"),
        (["img"], {"XC_SCENARIO_APIKEY": None}, "XC_SCENARIO_APIKEY (or --api-key) is not set"),
        (["img"], {"XC_RUNNER_HTTP_ADDR": "9180"}, "XC_RUNNER_HTTP_ADDR: not HOST:PORT: '9180'"),
        (["img", "--http-addr", "127.0.0.1:99999"], {}, "--http-addr: a port is 0 to 65535"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(
    argv: list[str], env: dict[str, str | None], words: str
) -> None:
    environ = {k: v for k, v in {**BASE_ENV, **env}.items() if v is not None}
    with pytest.raises(SettingError) as raised:
        runner_settings(parse(argv), environ)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("text", "value"),
    [("512m", 512 * 1024**2), ("64k", 65536), ("2G", 2 * 1024**3), ("100", 100), ("1MiB", 1024**2)],
)
def test_sizes(text: str, value: int) -> None:
    assert parse_bytes(text) == value


def test_the_operations_listener_is_off_unless_an_address_is_given() -> None:
    assert runner_settings(parse(["img"]), BASE_ENV).http_addr is None
    env = {**BASE_ENV, "XC_RUNNER_HTTP_ADDR": "0.0.0.0:9180"}
    settings = runner_settings(parse(["img", "--http-addr", "127.0.0.1:9181"]), env)
    assert settings.http_addr == ("127.0.0.1", 9181)
    assert "http_addr=127.0.0.1:9181" in settings.describe()
    assert runner_settings(parse(["img"]), env).http_addr == ("0.0.0.0", 9180)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("127.0.0.1:9180", ("127.0.0.1", 9180)),
        (" localhost:0 ", ("localhost", 0)),
        ("[::1]:9180", ("::1", 9180)),
        ("[::]:80", ("::", 80)),
    ],
)
def test_host_and_port(text: str, value: tuple[str, int]) -> None:
    assert parse_host_port(text) == value


@pytest.mark.parametrize("text", ["9180", ":9180", "::1:9180", "[]:80", "host:", "host:port"])
def test_not_a_host_and_port(text: str) -> None:
    with pytest.raises(ValueError, match=r"HOST:PORT|port number"):
        parse_host_port(text)


def test_the_api_key_may_come_from_a_file_never_from_both(tmp_path: Path) -> None:
    secret = tmp_path / "apikey"
    secret.write_text("from-a-file\n")
    env = {"XC_SCENARIO_SERVER": "http://platform", "XC_SCENARIO_APIKEY_FILE": str(secret)}
    assert runner_settings(parse(["img"]), env).api_key == "from-a-file"
    with pytest.raises(ConfigError, match="the API key is given twice"):
        runner_settings(parse(["img"]), {**env, "XC_SCENARIO_APIKEY": "k"})
    secret.write_text("  \n")
    with pytest.raises(ConfigError, match=re.escape(f"XC_SCENARIO_APIKEY_FILE: {secret} is empty")):
        runner_settings(parse(["img"]), env)
    missing = {**env, "XC_SCENARIO_APIKEY_FILE": str(tmp_path / "nope")}
    with pytest.raises(ConfigError, match=r"cannot read .*nope: No such file or directory"):
        runner_settings(parse(["img"]), missing)


@pytest.mark.parametrize("runner_id", ["-lead", "trail.", "has space", "a/b", "x" * 64, ""])
def test_a_runner_id_must_be_a_label_value(runner_id: str) -> None:
    with pytest.raises(ConfigError, match="XC_RUNNER_ID: not a runner id"):
        runner_settings(parse(["img"]), {**BASE_ENV, "XC_RUNNER_ID": runner_id or " "})
    assert runner_settings(parse(["img"]), {**BASE_ENV, "XC_RUNNER_ID": "r-1_a.b"}).runner_id
