"""Image settings beside the limits: the pull policy (flag, environment, file, per image), the
interval, the secrets folder, and each image's env and secrets tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from runner.app.parts import pool_targets
from runner.config.imageconfig import IMAGE_OPTIONS
from runner.config.options import add_options
from runner.config.policy import POLICY_OPTIONS, policy_file
from runner.config.settings import RUNNER_OPTIONS, runner_settings
from runner.core.errors import ConfigError
from runner.core.policy import ContainerEnv
from runner.core.secrets import SecretSource

ENV = {"XC_SCENARIO_SERVER": "http://platform", "XC_SCENARIO_APIKEY": "k"}


def settings(tmp_path: Path, config: str, *argv: str, **env: str) -> Any:
    path = tmp_path / "runner.toml"
    path.write_text(config)
    parser = argparse.ArgumentParser()
    parser.add_argument("images", nargs="*")
    add_options(parser, RUNNER_OPTIONS + POLICY_OPTIONS + IMAGE_OPTIONS)
    return runner_settings(parser.parse_args(["--config", str(path), *argv]), {**ENV, **env})


def test_pull_defaults_to_missing_and_is_set_runner_wide_then_per_image(tmp_path: Path) -> None:
    plain = settings(tmp_path, "", "a:1")
    assert plain.policies.default.pull == "missing"
    assert plain.pull_interval_s == 300.0
    config = '[defaults]\npull = "never"\n[images."b:1"]\npull = "Always"\n'
    by_file = settings(tmp_path, config, "a:1", "b:1")
    assert by_file.policies.for_image("a:1").pull == "never"
    assert by_file.policies.for_image("b:1").pull == "always"
    by_env = settings(tmp_path, config, "a:1", "b:1", XC_RUNNER_PULL="missing")
    assert by_env.policies.for_image("a:1").pull == "missing"
    assert by_env.policies.for_image("b:1").pull == "always"  # the image's own wins
    flags = settings(tmp_path, "", "a:1", "--pull", "always", "--pull-interval-s", "2.5")
    assert (flags.policies.default.pull, flags.pull_interval_s) == ("always", 2.5)


@pytest.mark.parametrize(
    ("argv", "env", "problem"),
    [
        (["--pull", "sometimes"], {}, "--pull: not a pull policy: 'sometimes' (use missing,"),
        ([], {"XC_RUNNER_PULL_INTERVAL_S": "0"}, "XC_RUNNER_PULL_INTERVAL_S: must be 1 to 604800"),
    ],
)
def test_a_bad_pull_setting_is_named(
    tmp_path: Path, argv: list[str], env: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(tmp_path, "", "a:1", *argv, **env)
    assert str(refused.value).startswith(problem)


def test_an_images_env_and_secrets_become_its_policy_and_its_pool_key(tmp_path: Path) -> None:
    config = """
[images."team/ocr:1"]
memory = "1g"
[images."team/ocr:1".env]
MODE = "fast"
RETRIES = 3
[images."team/ocr:1".secrets]
api_token = "/etc/xc-runner/secrets/ocr-token"
"tls.key" = "keys/tls.key"
"""
    found = settings(tmp_path, config, "team/ocr:1", "other:1", "--secrets-dir", "/run/x")
    env = found.policies.for_image("team/ocr:1").env
    assert env == ContainerEnv(
        variables=(("MODE", "fast"), ("RETRIES", "3")),
        secrets=(
            SecretSource("api_token", "/etc/xc-runner/secrets/ocr-token"),
            SecretSource("tls.key", str(tmp_path / "keys" / "tls.key")),  # from the file's folder
        ),
    )
    assert found.policies.for_image("other:1").env == ContainerEnv()
    assert found.secrets_dir == Path("/run/x")
    assert [t.env for t in pool_targets(found)] == [env, ContainerEnv()]
    assert "ocr-token" in repr(env) and found.describe().count("secrets=()") == 1


IMAGE = 'f [images."i"]'


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"defaults": {"secrets": {"a": "/x"}}},
            'f [defaults]: secrets is an image\'s own: set it in [images."IMAGE".secrets]',
        ),
        ({"defaults": {"env": {"A": "1"}}}, "f [defaults]: env is an image's own"),
        (
            {"images": {"i": {"secrets": {"../x": "/x"}}}},
            f"{IMAGE}.secrets: secret name '../x' is not a plain file name",
        ),
        (
            {"images": {"i": {"secrets": {"a": 3}}}},
            f"{IMAGE}.secrets: a must be the path of a file on this host",
        ),
        ({"images": {"i": {"secrets": {"a": ""}}}}, f"{IMAGE}.secrets: a must be the path"),
        (
            {"images": {"i": {"secrets": "/x"}}},
            f'{IMAGE}.secrets must be a table of NAME = "..." lines',
        ),
        (
            {"images": {"i": {"env": {"1A": "x"}}}},
            f"{IMAGE}.env: '1A' is not an environment variable name",
        ),
        ({"images": {"i": {"env": {"A": True}}}}, f"{IMAGE}.env: A must be a string or a number"),
        ({"images": {"i": {"env": {"A": "a\0b"}}}}, f"{IMAGE}.env: A holds a NUL character"),
        ({"images": {"i": {"pull": "often"}}}, f"{IMAGE}: pull: not a pull policy"),
    ],
)
def test_a_bad_table_is_refused_naming_it(document: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        policy_file(document, "f")
    assert str(refused.value).startswith(problem)
