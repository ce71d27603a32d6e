"""The documentation: a short README that names the two commands and shows correct task
code, and a site under docs/ in which every heading of the README it grew from has a home."""

from __future__ import annotations

import argparse
import re

from runner.cli.parser import parser
from tests.conftest import REPO

README = REPO / "README.md"
DOCS = REPO / "docs"
TEMPLATES = REPO / "runner" / "templates"
MAX_README_LINES = 250

# Every heading of the README before it became a front door (1,838 lines), frozen: each
# must still be a heading somewhere in docs/ or in the README, so that nothing of it was
# lost in the move. Headings added since need no entry here.
README_HEADINGS_BEFORE_THE_SITE = (
    "XC Scenario container runner",
    "The two commands",
    "Configuration",
    "Per-image task policy (TOML)",
    "The commands",
    "Images from a registry",
    "Per-image environment and secrets",
    "The protocol (version 1)",
    "How catalog types map to JSON Schema",
    "Writing a task image",
    "Python",
    "Go",
    "Node.js",
    "Shell",
    "Examples",
    "Quick start: a new task image from a template",
    "What the runner posts",
    "The task author's loop: `exec` and `check`",
    "`xc-runner exec IMAGE NAMESPACE/TASK [NAME=VALUE ...]`",
    "`xc-runner check IMAGE...`",
    "The local server",
    "HTTP: waitress",
    "What it accepts",
    "The cockpit",
    "Access",
    "Task text is shown as text",
    "Its data",
    "Its tests",
    "The warm pool",
    "Security",
    "Threat model",
    "Defaults, and how to change them",
    "gVisor",
    "What the runner does not protect against",
    "Reliability",
    "Status delivery: nothing is lost",
    "Polling",
    "Graceful drain",
    "Crash recovery",
    "Engine trouble",
    "Cancellation",
    "Operations",
    "Metrics: `GET /metrics`",
    "Probes: `GET /healthz`, `GET /readyz`",
    "Status: `GET /status`",
    "Logs",
    "Compose",
    "Docker Swarm",
    "More than one node",
    "Kubernetes",
    "Measured figures",
    "Development",
)

# Old headings whose section was rewritten since, under a new name: the new one must exist.
RENAMED = {
    "Engine trouble": "The runner's own faults",
    "The task author's loop: `exec` and `check`": (
        "The task author's loop: `new`, `build`, `exec` and `check`"
    ),
}

HEADING = re.compile(r"^#{1,6} +(.*?)(?: +#+)? *$")


def headings(markdown: str) -> list[str]:
    """The ATX headings of a Markdown text, outside its fenced code blocks."""
    found: list[str] = []
    fence = ""
    for line in markdown.splitlines():
        marker = re.match(r"^ {0,3}(```+|~~~+)", line)
        if marker and (not fence or marker.group(1).startswith(fence)):
            fence = "" if fence else marker.group(1)
        elif not fence and (match := HEADING.match(line)):
            found.append(match.group(1).strip())
    return found


def fenced_blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """The fenced code blocks of a Markdown text: (language, lines)."""
    blocks: list[tuple[str, list[str]]] = []
    for match in re.finditer(r"^```(\w*)\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL):
        blocks.append((match.group(1), match.group(2).splitlines()))
    return blocks


def site_headings() -> dict[str, list[str]]:
    pages = [*sorted(DOCS.rglob("*.md")), README]
    return {str(page.relative_to(REPO)): headings(page.read_text()) for page in pages}


def test_headings_are_read_outside_code_blocks_only() -> None:
    text = "# Title\n\n```sh\n# a comment\n```\n\n## Part `a` ##\nnot # a heading\n"
    assert headings(text) == ["Title", "Part `a`"]


def test_every_heading_of_the_old_readme_has_a_home() -> None:
    present = {heading for found in site_headings().values() for heading in found}
    homeless = [
        heading
        for heading in README_HEADINGS_BEFORE_THE_SITE
        if RENAMED.get(heading, heading) not in present
    ]
    assert homeless == []


def test_every_page_starts_with_its_title_then_an_introduction() -> None:
    for page in sorted(DOCS.rglob("*.md")):
        lines = page.read_text().splitlines()
        assert lines[0].startswith("# "), f"{page.relative_to(REPO)}: no title first"
        intro = next(line for line in lines[1:] if line.strip())
        assert not intro.startswith(("#", "|", "```", "- ")), (
            f"{page.relative_to(REPO)}: a heading, table, list or code comes before any text"
        )


def test_the_readme_is_a_short_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_the_readme_names_the_two_commands_and_shows_the_cockpit() -> None:
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text
    assert "(docs/cockpit.png)" in text
    assert (REPO / "docs" / "cockpit.png").is_file()


def test_the_readme_links_only_to_files_that_exist() -> None:
    for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", README.read_text()):
        if not target.startswith(("http://", "https://")):
            assert (REPO / target).exists(), f"README.md links to {target}, which is missing"


def test_the_readmes_task_code_is_the_templates_in_each_language() -> None:
    """Each language's example in the README is the template's own code, line for line
    (blank lines aside), so that it is the SDK's real API: `make test` builds and runs
    the templates (tests/integration/test_scaffold_images.py)."""
    sources = {
        "python": TEMPLATES / "python" / "tasks.py",
        "go": TEMPLATES / "go" / "main.go",
        "js": TEMPLATES / "node" / "main.js",
        "sh": TEMPLATES / "sh" / "tasks.sh",
    }
    shown = {lang: lines for lang, lines in fenced_blocks(README.read_text()) if lang != "sh"}
    shown["sh"] = next(
        lines for lang, lines in fenced_blocks(README.read_text()) if "task_hello() {" in lines
    )
    assert set(shown) == set(sources)
    for lang, lines in shown.items():
        code = [line for line in lines if line.strip()]
        template = [line for line in sources[lang].read_text().splitlines() if line.strip()]
        start = template.index(code[0])
        assert template[start : start + len(code)] == code, f"the README's {lang} example"


def test_the_commands_table_lists_every_command() -> None:
    """docs/running/command-line.md has a row for each command of the parser."""
    subparsers = next(
        action for action in parser()._actions if isinstance(action, argparse._SubParsersAction)
    )
    page = (DOCS / "running" / "command-line.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `xc-runner")]
    listed = {word for row in rows for word in re.findall(r"`xc-runner ([a-z]+)", row)}
    listed |= {word for row in rows for word in re.findall(r", `([a-z]+)(?: \[?ID\]?)?`", row)}
    assert set(subparsers.choices) <= listed, set(subparsers.choices) - listed
