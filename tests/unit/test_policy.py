"""Task policy: secure defaults, the TOML file, per-image overrides, nothing loosened silently."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pytest

from runner.app.parts import pool_targets
from runner.app.startup import check_policies
from runner.config.options import add_options
from runner.config.policy import (
    POLICY_OPTIONS,
    PolicyFile,
    build_policies,
    loosened,
    policy_file,
    read_policy_file,
)
from runner.config.settings import RUNNER_OPTIONS, runner_settings
from runner.core.errors import ConfigError, SettingError
from runner.core.policy import ContainerLimits, PolicyTable, TaskPolicy
from tests.unit.fakes import FakeEngine

ENV = {"XC_SCENARIO_SERVER": "http://platform", "XC_SCENARIO_APIKEY": "k"}


def settings_with(config: str, tmp_path: Path, *argv: str, **env: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "runner.toml"
    path.write_text(config)
    parser = argparse.ArgumentParser()
    parser.add_argument("images", nargs="*")
    add_options(parser, RUNNER_OPTIONS + POLICY_OPTIONS)
    args = parser.parse_args(["--config", str(path), *argv])
    return runner_settings(args, {**ENV, **env})


def test_the_built_in_defaults_are_the_secure_ones() -> None:
    limits = TaskPolicy().limits
    assert limits == ContainerLimits(
        memory_bytes=512 * 1024**2,
        cpus=1.0,
        pids=256,
        open_files=1024,
        tmpfs_bytes=64 * 1024**2,
        user="65534:65534",
        network="none",
        runtime="",
    )


def test_file_defaults_then_environment_then_image_sections(tmp_path: Path) -> None:
    config = """
[defaults]
memory = "1g"
pids = 100
runtime = "runsc"

[images."a:1"]
network = "bridge"
max_result_bytes = "1m"
task_timeout_s = 60
"""
    settings = settings_with(config, tmp_path, "a:1", "b:2", XC_RUNNER_PIDS="50")
    assert settings.policies.default.limits.memory_bytes == 1024**3
    assert settings.policies.default.limits.pids == 50  # the environment beats the file
    assert settings.policies.default.limits.runtime == "runsc"
    a = settings.policies.for_image("a:1")
    assert (a.limits.network, a.max_result_bytes, a.timeout_s) == ("bridge", 1024**2, 60.0)
    assert a.limits.pids == 50 and a.limits.runtime == "runsc"  # the rest is inherited
    assert settings.policies.for_image("b:2") == settings.policies.default


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("[defaults]\nmemroy = '1g'\n", "unknown key 'memroy'"),
        ("[default]\nmemory = '1g'\n", "unknown section(s) default"),
        ("[defaults]\nmemory = 'lots'\n", "[defaults]: memory: not a size"),
        ("[defaults]\npids = 0\n", "pids: must be 2 to 4194304"),
        ("[defaults]\ncpus = true\n", "cpus must be a string or a number"),
        ('[images."a:1"]\nnetwork = "host"\n', "would share a namespace with the host"),
        ('[images."a:1"]\nuser = "x y"\n', "not a user"),
        ('[images."c:3"]\npids = 10\n', "does not serve: c:3"),
        ("[defaults\n", "is not valid TOML"),
        ("[defaults]\npool_size = -1\n", "pool_size: must be 0 to 256"),
        ("[defaults]\npool_size = 'many'\n", "pool_size: not a whole number"),
        # 0 is no limit to Docker and tmpfs, and fails every task as a line cap: refused
        ('[images."a:1"]\nmemory = 0\n', '[images."a:1"]: memory: must be 6m to 1t, got \'0\''),
        ("[defaults]\ntmpfs_size = '0'\n", "tmpfs_size: must be 1m to 1t"),
        ('[images."a:1"]\nmax_line_bytes = 0\n', "max_line_bytes: must be 1k to 64m"),
        ("[defaults]\nmax_output_bytes = '0k'\n", "max_output_bytes: must be 1k to 1g"),
        ("[defaults]\nmax_result_bytes = 10\n", "max_result_bytes: must be 1k to 64m"),
        ("[defaults]\ncpus = 1e308\n", "cpus: must be 0.01 to 1024"),
        ("[defaults]\ncpus = nan\n", "cpus: not a number: 'nan'"),
        ("[defaults]\nopen_files = -5\n", "open_files: must be 16 to 1048576"),
        ("[defaults]\ntask_timeout_s = 0\n", "task_timeout_s: must be 0.01 to 2592000"),
        ('[images."a:1"]\npool_size = 100000\n', "pool_size: must be 0 to 256"),
        ("[defaults]\nmemory = '99999999999999g'\n", "memory: must be 6m to 1t"),
        ("[defaults]\npids = '\uff11\uff12'\n", "pids: not a whole number"),
    ],
)
def test_bad_configuration_is_refused_naming_the_problem(
    config: str, named: str, tmp_path: Path
) -> None:
    with pytest.raises(SettingError, match=r".*") as caught:
        settings_with(config, tmp_path, "a:1")
    assert named in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        read_policy_file(tmp_path / "absent.toml")


def test_runc_means_the_engine_default() -> None:
    file = policy_file({"defaults": {"runtime": "runc"}}, "f")
    base = build_policies(file, {}, ["a"]).default
    assert base.limits.runtime == ""


def test_loosened_lists_every_weaker_setting() -> None:
    strict = TaskPolicy().replace({"runtime": "runsc"})
    loose = strict.replace(
        {"network": "bridge", "user": "0:0", "runtime": "", "memory_bytes": 2 * 1024**3}
    )
    found = loosened(loose, strict)
    assert found[:3] == [
        "network bridge (instead of none)",
        "runs as root (0:0)",
        "runtime engine default (instead of runsc)",
    ]
    assert found[3:] == ["memory 2g (instead of 512m)"]
    tighter = strict.replace({"memory_bytes": 1024**2, "pids": 10, "user": "1000:1000"})
    assert loosened(tighter, strict) == []


def test_start_up_logs_loosened_policies_and_refuses_unknown_runtimes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_with('[images."a:1"]\nnetwork = "bridge"\n', tmp_path, "a:1")
    with caplog.at_level(logging.WARNING):
        check_policies(settings.policies, FakeEngine())
    assert "image a:1 task policy loosens the defaults: network bridge" in caplog.text

    gvisor = settings_with("[defaults]\nruntime = 'runsc'\n", tmp_path, "a:1")
    with pytest.raises(ConfigError, match="runtime runsc is not registered"):
        check_policies(gvisor.policies, FakeEngine())
    check_policies(gvisor.policies, FakeEngine(known_runtimes={"runc", "runsc"}))


def test_an_empty_file_changes_nothing() -> None:
    assert build_policies(PolicyFile(), {}, ["a"]) == PolicyTable(TaskPolicy(), {})


def test_the_warm_pool_size_is_the_concurrency_unless_set_runner_wide_or_per_image(
    tmp_path: Path,
) -> None:
    config = '[images."a:1"]\npool_size = 0\n[images."c:3"]\npool_size = 9\n'
    settings = settings_with(config, tmp_path, "a:1", "b:2", "c:3", "--concurrency", "3")
    assert [(t.image, t.size) for t in pool_targets(settings)] == [
        ("a:1", 0),
        ("b:2", 3),
        ("c:3", 9),
    ]
    assert pool_targets(settings)[1].limits == settings.policies.default.limits
    wide = settings_with(config, tmp_path, "a:1", "b:2", "c:3", XC_RUNNER_POOL_SIZE="1")
    assert [t.size for t in pool_targets(wide)] == [0, 1, 9]
    assert settings_with("", tmp_path, "a:1", "--pool-size", "0").policies.default.pool_size == 0


def test_a_bigger_warm_pool_loosens_nothing() -> None:
    assert loosened(TaskPolicy(pool_size=50), TaskPolicy(pool_size=1)) == []
    assert loosened(TaskPolicy(pool_size=50), TaskPolicy()) == []
