"""The documentation site's configuration: it builds offline, and its strict build (run
by `make lint`) fails on a link to a missing page or anchor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

CONFIG = REPO / "mkdocs.yml"


def config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    return loaded


def nav_pages(nav: list[Any]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_site_fetches_nothing_from_elsewhere() -> None:
    settings = config()
    assert settings["theme"]["name"] == "material"
    assert settings["theme"]["font"] is False  # no Google Fonts
    assert settings["plugins"] == ["search"]  # built in; nothing that downloads
    assert "extra_javascript" not in settings
    assert "extra_css" not in settings
    assert settings["site_dir"].startswith("build/")  # ignored by git


def test_every_link_and_anchor_is_validated() -> None:
    validation = config()["validation"]
    assert set(validation["links"].values()) == {"warn"}  # --strict: a warning fails
    assert set(validation["links"]) >= {"not_found", "anchors", "unrecognized_links"}
    assert validation["nav"]["omitted_files"] == "warn"


def test_the_nav_lists_every_page() -> None:
    listed = set(nav_pages(config()["nav"]))
    pages = {str(page.relative_to(REPO / "docs")) for page in (REPO / "docs").rglob("*.md")}
    assert listed == pages


def mkdocs() -> str:
    tool = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("mkdocs is not installed in this environment (make venv-dev)")
    return tool


def lint_build_flags() -> list[str]:
    """The options `make lint` builds the site with, read from the Makefile's recipe, so that
    this test builds as lint does (`--quiet` once hid the warnings that `--strict` counts)."""
    recipe = (REPO / "Makefile").read_text().partition("\nlint:")[2].partition("\n\n")[0]
    for line in recipe.splitlines():
        words = line.split()
        if words[:2] == ["$(MKDOCS)", "build"]:
            return words[2:]
    raise AssertionError("make lint does not build the documentation site")


def build(tmp_path: Path, page: str) -> subprocess.CompletedProcess[str]:
    """A build as `make lint` makes it, with the site's own settings, of two pages: one
    given, one fixed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(page)
    (docs / "other.md").write_text("# Other\n\nA page.\n\n## A part\n\nIts text.\n")
    settings = config() | {
        "docs_dir": str(docs),
        "site_dir": str(tmp_path / "site"),
        "nav": ["index.md", "other.md"],
    }
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(settings))
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [mkdocs(), "build", *lint_build_flags(), "-f", str(tmp_path / "mkdocs.yml")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("link", "says"),
    [
        ("[a](other.md#a-part)", None),
        ("[a](missing.md)", "not found among documentation files"),
        ("[a](other.md#no-such-part)", "does not contain an anchor '#no-such-part'"),
        ("[a](#nowhere)", "there is no such anchor on this page"),
        ("[a](../README.md)", "not found among documentation files"),
    ],
)
def test_the_strict_build_fails_on_a_broken_link(
    tmp_path: Path, link: str, says: str | None
) -> None:
    result = build(tmp_path, f"# Home\n\nSee {link}.\n")
    if says is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert says in result.stderr
