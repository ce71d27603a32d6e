"""examples/runner.toml: every key the configuration file takes, each with a comment,
loaded through the runner's own loader; its [defaults] are the built-in defaults."""

from __future__ import annotations

import re
from pathlib import Path

from runner.config.imageconfig import IMAGE_OPTIONS, TABLES
from runner.config.options import resolve_file
from runner.config.policy import POLICY_OPTIONS, build_policies, read_policy_file
from runner.config.settings import FILE_OPTIONS, RunnerSettings
from runner.core.policy import TaskPolicy
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "runner.toml"
IMAGE = "xc-tasks/sample:latest"


def test_the_example_loads_and_its_defaults_are_the_built_in_ones() -> None:
    file = read_policy_file(EXAMPLE)
    table = build_policies(file, {}, [IMAGE])
    assert table.default == TaskPolicy()
    sample = table.for_image(IMAGE)
    assert (sample.limits.memory_bytes, sample.timeout_s) == (1024**3, 600.0)
    assert sample.env.variables == (("GREETING", "hello"),)
    [secret] = sample.env.secrets
    assert secret.name == "api_token"
    assert Path(secret.path) == EXAMPLE.parent / "secrets" / "sample-api-token"
    runner = resolve_file(FILE_OPTIONS, file.runner, "[runner]")
    assert runner == {"journal_keep": RunnerSettings.journal_keep}


def test_every_key_is_in_the_example_with_a_comment_above_it() -> None:
    lines = EXAMPLE.read_text().splitlines()
    found: dict[str, int] = {}
    for number, line in enumerate(lines):
        match = re.fullmatch(r"(?:# )?([a-z_]+) = .*", line)
        if match:
            found.setdefault(match.group(1), number)
    keys = {option.key for option in POLICY_OPTIONS + IMAGE_OPTIONS + FILE_OPTIONS}
    assert keys <= set(found), f"not in examples/runner.toml: {sorted(keys - set(found))}"
    for key in keys:
        above = lines[found[key] - 1]
        assert above.startswith("# ") and not re.match(r"# [a-z_]+ = ", above), key
    for table in TABLES:
        assert f'[images."{IMAGE}".{table}]' in lines
