"""Values of settings as text, read strictly: numbers within bounds, API keys, URLs, image
references.

Every number is ASCII digits (no `1_000`, no full-width digits), finite, and within the
bounds of its setting, both ends included: 0, a negative or an absurd value of a limit or
a count is refused, naming the bounds. Every check's work is bounded by its input's size.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_SIZE = re.compile(r"([0-9]+)\s*([kmgt]?)(?:i?b)?", re.ASCII | re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_MAX_NUMBER_CHARS = 40  # longer than any number a setting may take


def read_integer(text: str) -> int:
    stripped = text.strip()
    if len(stripped) > _MAX_NUMBER_CHARS or not _INTEGER.fullmatch(stripped):
        raise ValueError(f"not a whole number: {text!r}")
    return int(stripped)


def read_decimal(text: str) -> float:
    stripped = text.strip()
    if len(stripped) > _MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(stripped):
        raise ValueError(f"not a number: {text!r}")
    return float(stripped)


def read_choice(text: str, what: str, choices: Sequence[str], *, upper: bool = False) -> str:
    """One of `choices`, whatever its case (they are all lower case, or all upper)."""
    value = text.strip().upper() if upper else text.strip().lower()
    if value not in choices:
        raise ValueError(f"not a {what}: {text!r} (use {', '.join(choices)})")
    return value


def read_size(text: str) -> int:
    """`"512m"` -> 536870912. Binary units (k, m, g, t), as the docker CLI reads them."""
    stripped = text.strip()
    match = _SIZE.fullmatch(stripped) if len(stripped) <= _MAX_NUMBER_CHARS else None
    if not match:
        raise ValueError(f"not a size: {text!r} (use a whole number with k, m or g, e.g. 512m)")
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()]


def show_size(count: float) -> str:
    """536870912 -> `512m`, in the unit a user would write."""
    for unit in ("t", "g", "m", "k"):
        factor = _SIZE_FACTORS[unit]
        if count >= factor and count % factor == 0:
            return f"{int(count // factor)}{unit}"
    return str(int(count))


def show_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Bounded:
    """Reads a number (`read`) and refuses it outside `low`..`high`, both included; `show`
    writes a value as a user would (sizes as `512m`)."""

    read: Callable[[str], float]
    low: float
    high: float
    show: Callable[[float], str] = show_number

    def __call__(self, text: str) -> float:
        value = self.read(text)
        if not self.low <= value <= self.high:
            raise ValueError(f"must be {self.bounds()}, got {text.strip()!r}")
        return value

    def bounds(self) -> str:
        return f"{self.show(self.low)} to {self.show(self.high)}"


def sizes(low: int, high: int) -> Bounded:
    return Bounded(read_size, low, high, show_size)


def counts(low: int, high: int) -> Bounded:
    return Bounded(read_integer, low, high)


def seconds(low: float, high: float) -> Bounded:
    return Bounded(read_decimal, low, high)


# --- secrets and addresses ---------------------------------------------------------

_HEADER_SAFE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_MAX_KEY_CHARS = 4096


def parse_api_key(text: str) -> str:
    """An API key, sent as `Authorization: bearer KEY`: printable ASCII, spaces only inside.
    The message never shows the key."""
    key = text.strip()
    if not key:
        raise ValueError("the API key is empty")
    if len(key) > _MAX_KEY_CHARS:
        raise ValueError(f"the API key is longer than {_MAX_KEY_CHARS} characters")
    if not _HEADER_SAFE.fullmatch(key):
        raise ValueError(
            "the API key holds a character an HTTP header cannot carry (a line break, a "
            "control character or a non-ASCII character): use printable ASCII only"
        )
    return key


_MAX_URL_CHARS = 2048
_MAX_HOST_CHARS = 253
_MAX_LABEL_CHARS = 63
_USERINFO = re.compile(r"//[^/]*@")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?", re.ASCII)


def parse_server_url(text: str) -> str:
    """The base URL of a platform or local server: `http(s)://HOST[:PORT][/PATH]`, without a
    trailing slash."""
    url = text.strip().rstrip("/")
    shown = _USERINFO.sub("//...@", url[:200])  # a password in the URL is never shown
    example = "e.g. https://scenario.example.com or http://127.0.0.1:8077"
    if len(url) > _MAX_URL_CHARS or not url.isascii() or not url.isprintable() or " " in url:
        raise ValueError(f"not a URL: {shown!r} ({example}; ASCII, no spaces)")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {shown!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"must be an http(s) URL, got {shown!r} ({example})")
    if parts.query or parts.fragment or parts.username is not None:
        raise ValueError(f"a base URL has no query, fragment, user or password: {shown!r}")
    problem = host_problem(host)
    if problem:
        raise ValueError(f"not a URL: {shown!r}: {problem}")
    return url


def host_problem(host: str) -> str | None:
    """Why `host` (a name or an IP address) cannot be looked up or connected to, or None."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    name = host.removesuffix(".")
    if len(name) > _MAX_HOST_CHARS:
        return f"the host name is longer than {_MAX_HOST_CHARS} characters"
    for label in name.split("."):
        if len(label) > _MAX_LABEL_CHARS:
            return f"a part of the host name is longer than {_MAX_LABEL_CHARS} characters"
        if not _LABEL.fullmatch(label):
            return f"{label!r} is not a part of a host name (letters, digits and '-')"
    return None


# Docker's reference grammar (distribution/reference), with each repetition starting on a
# character that cannot end the one before, so that matching takes linear time.
_DOMAIN_PART = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_PART}(?:/{_PATH_PART})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?",
    re.ASCII,
)
_MAX_IMAGE_CHARS = 512  # a name (up to 255) and a tag (128) or a digest


def parse_image(text: str) -> str:
    """An image reference as the engine reads it (`xc-tasks/sample:latest`,
    `registry.example.com:5000/team/ocr:1.4`, `name@sha256:...`)."""
    image = text.strip()
    match = _IMAGE.fullmatch(image) if len(image) <= _MAX_IMAGE_CHARS else None
    if match is None or not _is_name(match.group("domain"), match.group("path")):
        raise ValueError(
            f"not an image reference: {text!r} (lowercase NAME[:TAG][@DIGEST], e.g. "
            "xc-tasks/sample:latest or registry.example.com/team/ocr:1.4)"
        )
    return image


def _is_name(domain: str | None, path: str) -> bool:
    """As the engine tells them apart: a first part is a registry only with a '.' or a ':',
    or as `localhost`; otherwise it is a lowercase part of the name."""
    if domain is None:
        return len(path) <= 255
    is_registry = "." in domain or ":" in domain or domain == "localhost"
    if not is_registry and not re.fullmatch(_PATH_PART, domain, re.ASCII):
        return False
    return len(domain) + 1 + len(path) <= 255


def parse_cancel_url(text: str) -> str:
    """A URL template with {id} (and optionally {namespace}); "off" turns the check off."""
    if text.strip().lower() in {"off", "none"}:
        return ""
    if "{id}" not in text:
        raise ValueError(f"the cancellation URL must contain {{id}}, got {text!r}")
    try:
        text.format(id="1", namespace="ns")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"only {{id}} and {{namespace}} may be used in it: {exc}") from None
    return text
