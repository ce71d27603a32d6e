"""The deployment files keep the project's rules: compose.yaml, the Swarm stack and the
Kubernetes manifests give a stopping runner at least its drain + 20 s; the key comes from
a secret file, never the environment; compose restarts and checks its services; the
runner's image is not root, checks /healthz, says what it is, and pins its base."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.swarm_stack import STOP_MARGIN_S
from tests.conftest import REPO

COMPOSE = REPO / "compose.yaml"
STACK = REPO / "deploy" / "swarm" / "stack.yaml"
KUBERNETES = REPO / "deploy" / "kubernetes" / "runner.yaml"
_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*)|:\?[^}]*)?\}")


def load(path: Path) -> dict[str, Any]:
    """A compose file with each ${VAR:-default} as its default (a required one as `1`)."""
    text = _VARIABLE.sub(lambda m: m.group(2) if m.group(2) is not None else "1", path.read_text())
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def duration_s(value: str | int) -> float:
    """`60s`, `1m30s`, `45` -> seconds."""
    if isinstance(value, int):
        return float(value)
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", value)
    assert parts and value, f"not a duration: {value!r}"
    return int(parts.group(1) or 0) * 60 + float(parts.group(2) or 0)


def compose_grace(path: Path) -> tuple[float, float]:
    runner = load(path)["services"]["runner"]
    drain = float(runner["environment"].get("XC_RUNNER_DRAIN_TIMEOUT_S", 25))
    return drain, duration_s(runner.get("stop_grace_period", "10s"))


def kubernetes_grace(path: Path) -> tuple[float, float]:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    config = next(d for d in documents if d["kind"] == "ConfigMap")["data"]
    sts = next(d for d in documents if d["kind"] == "StatefulSet")
    grace = sts["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    return float(config.get("XC_RUNNER_DRAIN_TIMEOUT_S", 25)), float(grace)


@pytest.mark.parametrize(
    ("path", "read"),
    [(COMPOSE, compose_grace), (STACK, compose_grace), (KUBERNETES, kubernetes_grace)],
    ids=["compose", "swarm", "kubernetes"],
)
def test_a_stopping_runner_gets_its_drain_and_20_s(path: Path, read: Any) -> None:
    drain_s, grace_s = read(path)
    assert STOP_MARGIN_S == 20
    assert grace_s >= drain_s + STOP_MARGIN_S, f"{path.name}: grace {grace_s} s, drain {drain_s} s"


def test_compose_restarts_and_checks_its_services() -> None:
    services = load(COMPOSE)["services"]
    for name in ("server", "runner"):
        assert services[name].get("restart") in ("unless-stopped", "always"), name
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and "urlopen" in test[-1], name
    assert "/healthz" in services["runner"]["healthcheck"]["test"][-1]
    assert services["samples"]["healthcheck"] == {"disable": True}  # a one-shot client
    assert "restart" not in services["samples"]


@pytest.mark.parametrize("path", [COMPOSE, STACK], ids=["compose", "swarm"])
def test_the_key_comes_from_a_secret_file_and_the_runner_is_not_root(path: Path) -> None:
    text = path.read_text()
    assert "XC_SCENARIO_APIKEY:" not in text  # no key in any environment
    assert "XC_SCENARIO_APIKEY:-" not in text and "compose-demo-key" not in text
    document = load(path)
    for name, service in document["services"].items():
        assert "xc-scenario-apikey" in service.get("secrets", []), name
        assert service["environment"]["XC_SCENARIO_APIKEY_FILE"] == (
            "/run/secrets/xc-scenario-apikey"
        ), name
        assert service.get("user", "10001") not in ("root", "0"), name
    runner = document["services"]["runner"]
    assert runner.get("group_add") or str(runner.get("user", "")).startswith("10001:")


def test_the_compose_key_file_has_no_default() -> None:
    secret = yaml.safe_load(COMPOSE.read_text())["secrets"]["xc-scenario-apikey"]
    assert secret["file"].startswith("${XC_COMPOSE_APIKEY_FILE:?"), secret


def test_the_runner_image_is_not_root_checks_healthz_and_is_labelled() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1].partition(":")[0] not in ("root", "0"), users
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD .*/healthz", dockerfile, re.MULTILINE)
    for label in ("version", "revision", "source"):
        assert f"org.opencontainers.image.{label}=" in dockerfile, label
    base = re.search(r"^ARG PYTHON_BASE=(\S+)$", dockerfile, re.MULTILINE)
    assert base and re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base.group(1)), base
