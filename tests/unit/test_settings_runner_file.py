"""The configuration file's [runner] section: settings of the runner itself, below the
environment and the flags; an unknown key or a bad value is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.config.policy import read_policy_file
from runner.config.settings import runner_settings
from runner.core.errors import ConfigError
from tests.unit.test_settings import BASE_ENV, parse


def config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "runner.toml"
    path.write_text(text)
    return {**BASE_ENV, "XC_RUNNER_CONFIG": str(path)}


def test_the_journal_keeps_1000_ended_tasks_unless_told_otherwise(tmp_path: Path) -> None:
    assert runner_settings(parse(["img"]), BASE_ENV).journal_keep == 1000
    env = config(tmp_path, "[runner]\njournal_keep = 50\n")
    assert runner_settings(parse(["img"]), env).journal_keep == 50
    env["XC_RUNNER_JOURNAL_KEEP"] = "20"
    assert runner_settings(parse(["img"]), env).journal_keep == 20
    assert runner_settings(parse(["img", "--journal-keep", "0"]), env).journal_keep == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[runner]\njournal_keep = -1\n", r"\[runner\]: journal_keep: must be 0 to 1000000000"),
        ('[runner]\njournal_keep = "many"\n', r"journal_keep: not a whole number: 'many'"),
        ("[runner]\nconcurrency = 2\n", r"unknown key 'concurrency' \(known: journal_keep"),
        ("runner = 3\n", r"\[runner\] must be a table"),
    ],
)
def test_a_bad_runner_section_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        runner_settings(parse(["img"]), config(tmp_path, text))


def test_the_runner_section_is_no_task_policy(tmp_path: Path) -> None:
    path = tmp_path / "runner.toml"
    path.write_text("[defaults]\ncpus = 2\n[runner]\njournal_keep = 3\n")
    file = read_policy_file(path)
    assert dict(file.runner) == {"journal_keep": 3}
    assert "journal_keep" not in file.defaults
