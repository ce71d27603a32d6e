"""How the runner's parts are sized and made from its settings: the warm pool's targets, the
engine's connections, the image puller, the state file, where task usage is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runner.app.pulling import ImagePuller
from runner.config.settings import RunnerSettings
from runner.core.warmpool import Target
from runner.engine.docker_engine import DockerEngine
from runner.engine.dockerstats import EngineStats
from runner.engine.registry import DockerRegistry
from runner.engine.usage import UsageSource
from runner.state.store import StateStore

if TYPE_CHECKING:
    from runner.engine.kubernetes_engine import KubernetesEngine

    # The engines a runner may have (settings.engine): containers on Docker, or Pods.
    AnyEngine = DockerEngine | KubernetesEngine


def pool_targets(settings: RunnerSettings) -> list[Target]:
    """What the warm pool keeps ready: per image, `pool_size` (default: the concurrency)
    containers of its policy."""
    targets = []
    for image in settings.images:
        policy = settings.policies.for_image(image)
        size = settings.concurrency if policy.pool_size is None else policy.pool_size
        targets.append(Target(image, policy.limits, size, env=policy.env))
    return targets


def pull_policies(settings: RunnerSettings) -> dict[str, str]:
    return {image: settings.policies.for_image(image).pull for image in settings.images}


def image_puller(settings: RunnerSettings, engine: AnyEngine, registry: AnyRegistry) -> ImagePuller:
    """Each served image's pull policy, applied at start-up and (`always`) every interval.
    Without a registry (Kubernetes: the nodes pull, as the Pods' imagePullPolicy says), it
    pulls nothing."""
    policies = {} if isinstance(registry, NoRegistry) else pull_policies(settings)
    return ImagePuller(registry, engine, policies, settings.pull_interval_s)


class NoRegistry:
    """The registries of a runner that pulls nothing itself (Kubernetes): never asked."""

    def remote_digest(self, image: str) -> str:
        raise AssertionError("no registry is asked on Kubernetes")

    def pull(self, image: str, on_event: object) -> None:
        raise AssertionError("no image is pulled on Kubernetes")

    def credentials(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


# What a runner asks about images: registries through the Docker engine, or none.
AnyRegistry = DockerRegistry | NoRegistry


def connect_engine(settings: RunnerSettings) -> AnyEngine:
    """The engine the settings name, with a connection for each task at once, each warm
    container, and a few more."""
    warm = sum(target.size for target in pool_targets(settings))
    if settings.engine == "kubernetes":
        # Imported only for this engine: the Kubernetes client costs about 18 MiB and most
        # of a second to import, which a runner on Docker does not pay.
        from runner.engine.kubernetes_engine import KubernetesEngine  # noqa: PLC0415

        return KubernetesEngine(
            settings.kube_namespace,
            runner_id=settings.runner_id,
            pull_policies=pull_policies(settings),
            pool_size=2 * settings.concurrency + warm + 4,
        )
    return DockerEngine(pool_size=2 * settings.concurrency + warm + 4)


def registries(settings: RunnerSettings) -> AnyRegistry:
    """Registries through the Docker engine; none on Kubernetes (its nodes pull)."""
    return DockerRegistry() if settings.engine == "docker" else NoRegistry()


def open_state(settings: RunnerSettings) -> StateStore:
    """The runner id's state file (outbox and journal), kept for its platform."""
    return StateStore(
        settings.state_dir,
        settings.runner_id,
        server_url=settings.server_url,
        max_statuses=settings.outbox_max_statuses,
        journal_keep=settings.journal_keep,
    )


def usage_source(settings: RunnerSettings) -> UsageSource:
    """Where each task's usage is read, as the `usage` setting says (its engine stats on a
    client of their own, one stream per running task at most). Not on Kubernetes: a task's
    Pod and its cgroup are on a node, not beside the runner."""
    if settings.engine == "kubernetes":
        return UsageSource("off", settings.cgroup_root)
    return UsageSource(settings.usage, settings.cgroup_root, EngineStats(settings.concurrency))
