"""The cockpit page's files (static/), served by the local server itself: no CDN, works offline.

Read once, when the server starts, into a table of exact paths: `/` is
index.html, `/cockpit/<name>` every other file. Nothing else is ever read
from the disk, so no path can name a file outside that table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.core.errors import ConfigError

STATIC = Path(__file__).resolve().with_name("static")
INDEX = "index.html"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# No inline script or style, no eval, nothing from another origin; no framing;
# no form may submit anywhere (the page's forms are handled by its script, so a
# form can never put what was typed into it, the key included, into a URL).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
)


@dataclass(frozen=True)
class Asset:
    content_type: str
    body: bytes


def load(directory: Path = STATIC) -> dict[str, Asset]:
    """Every file of `directory` by the path it is served at; ConfigError if it is unreadable."""
    assets: dict[str, Asset] = {}
    try:
        for path in sorted(directory.iterdir()):
            kind = _TYPES.get(path.suffix)
            if kind is None or not path.is_file():
                continue
            served = "/" if path.name == INDEX else f"/cockpit/{path.name}"
            assets[served] = Asset(kind, path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the cockpit's files in {directory}: {exc}") from None
    if "/" not in assets:
        raise ConfigError(f"the cockpit's page {directory / INDEX} is missing")
    return assets
