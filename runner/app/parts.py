"""How the runner's parts are sized and made from its settings: the warm pool's targets, the
engine's connections, the image puller, the state file, where task usage is read."""

from __future__ import annotations

from runner.app.pulling import ImagePuller
from runner.config.settings import RunnerSettings
from runner.core.warmpool import Target
from runner.engine.docker_engine import DockerEngine
from runner.engine.dockerstats import EngineStats
from runner.engine.registry import DockerRegistry
from runner.engine.usage import UsageSource
from runner.state.store import StateStore


def pool_targets(settings: RunnerSettings) -> list[Target]:
    """What the warm pool keeps ready: per image, `pool_size` (default: the concurrency)
    containers of its policy."""
    targets = []
    for image in settings.images:
        policy = settings.policies.for_image(image)
        size = settings.concurrency if policy.pool_size is None else policy.pool_size
        targets.append(Target(image, policy.limits, size, env=policy.env))
    return targets


def image_puller(
    settings: RunnerSettings, engine: DockerEngine, registry: DockerRegistry
) -> ImagePuller:
    """Each served image's pull policy, applied at start-up and (`always`) every interval."""
    policies = {image: settings.policies.for_image(image).pull for image in settings.images}
    return ImagePuller(registry, engine, policies, settings.pull_interval_s)


def connect_engine(settings: RunnerSettings) -> DockerEngine:
    """The Docker engine, with a connection for each task at once, each warm container,
    and a few more."""
    warm = sum(target.size for target in pool_targets(settings))
    return DockerEngine(pool_size=2 * settings.concurrency + warm + 4)


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
    client of their own, one stream per running task at most)."""
    return UsageSource(settings.usage, settings.cgroup_root, EngineStats(settings.concurrency))
