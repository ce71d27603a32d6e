"""Where tasks run: `--engine` (docker, the default, or kubernetes) and `--kube-namespace`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runner.config.settings import runner_settings
from runner.core.errors import SettingError
from tests.unit.test_settings import BASE_ENV, parse


def test_docker_is_the_default_and_kubernetes_is_chosen_by_flag_or_environment() -> None:
    assert runner_settings(parse(["img"]), BASE_ENV).engine == "docker"
    env = {**BASE_ENV, "XC_RUNNER_ENGINE": "Kubernetes", "XC_RUNNER_KUBE_NAMESPACE": "tasks"}
    settings = runner_settings(parse(["img"]), env)
    assert (settings.engine, settings.kube_namespace) == ("kubernetes", "tasks")
    flags = parse(["img", "--engine", "docker", "--kube-namespace", "other"])
    assert runner_settings(flags, env).engine == "docker"
    assert runner_settings(parse(["img"]), BASE_ENV).kube_namespace is None
    assert "engine=kubernetes" in settings.describe()


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("XC_RUNNER_ENGINE", "podman", "not a container engine: 'podman'"),
        ("XC_RUNNER_KUBE_NAMESPACE", "Tasks", "not a Kubernetes namespace: 'Tasks'"),
        ("XC_RUNNER_KUBE_NAMESPACE", "-x", "not a Kubernetes namespace"),
        ("XC_RUNNER_KUBE_NAMESPACE", "a" * 64, "not a Kubernetes namespace"),
    ],
)
def test_a_bad_engine_or_namespace_is_refused_naming_it(
    variable: str, value: str, said: str
) -> None:
    with pytest.raises(SettingError, match=variable) as refused:
        runner_settings(parse(["img"]), {**BASE_ENV, variable: value})
    assert said in str(refused.value)


def test_a_runner_on_docker_does_not_import_the_kubernetes_client() -> None:
    """The client costs about 18 MiB and most of a second to import: only its engine does."""
    code = "import sys, runner.cli.main, runner.app.runner; print('kubernetes' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
