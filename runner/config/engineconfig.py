"""Where tasks run: the engine (`docker`, the default, or `kubernetes`) and, on Kubernetes,
the namespace of the task Pods. The cluster itself is found as kubectl finds it (in a Pod,
its service account; elsewhere KUBECONFIG or ~/.kube/config), not through a setting."""

from __future__ import annotations

import re

from runner.config.options import Option
from runner.config.values import read_choice

ENGINES = ("docker", "kubernetes")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", re.ASCII)


def parse_engine(text: str) -> str:
    return read_choice(text, "container engine", ENGINES)


def parse_kube_namespace(text: str) -> str:
    name = text.strip()
    if not _NAMESPACE.fullmatch(name):
        raise ValueError(
            f"not a Kubernetes namespace: {text!r} (1 to 63 lowercase letters, digits or '-', "
            "beginning and ending with a letter or digit)"
        )
    return name


ENGINE_OPTIONS: tuple[Option, ...] = (
    Option(
        "engine",
        "--engine",
        "XC_RUNNER_ENGINE",
        parse_engine,
        "where tasks run: docker (a container each, on the Docker engine) or kubernetes (a Pod "
        "each, on the cluster kubectl would use)",
    ),
    Option(
        "kube_namespace",
        "--kube-namespace",
        "XC_RUNNER_KUBE_NAMESPACE",
        parse_kube_namespace,
        "with --engine kubernetes: the namespace of the task Pods (default: the runner's own "
        "Pod's, else the kubeconfig context's, else default)",
    ),
)
