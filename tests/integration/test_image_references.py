"""An image reference the engine refuses is a bad name, not an engine that cannot be
reached: the engine answered (400), so it is a ConfigError (exit 3), never an EngineError
(exit 5). The command line refuses such a name before it asks the engine (exit 2)."""

from __future__ import annotations

import pytest

from runner.core.errors import ConfigError
from runner.engine.docker_engine import DockerEngine

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("image", ["Bad:Image:ref", "UPPER/case:1", "a" * 300])
def test_the_engine_refusing_a_name_is_a_bad_name(engine: DockerEngine, image: str) -> None:
    with pytest.raises(ConfigError, match=f"image {image}: "):
        engine.image_labels(image)
    assert not engine.wait_suspect(0)  # not taken for the engine in trouble
    engine.ping()  # which answers
