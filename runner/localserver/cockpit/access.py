"""Which requests the cockpit lets through without the API key: pure, from the request line
and a few headers.

- The page's files (`/` and `/cockpit/...`) hold no data and are the same for
  everyone: they need no key anywhere. (A browser cannot send a bearer key when
  it opens a page; the page asks for the key, keeps it in sessionStorage and
  sends it on every request for data.)
- The page's data (`/local/api/cockpit/...`) needs no key when the server listens
  on loopback, as long as the request shows it comes from the page itself: it
  carries the `X-XC-Cockpit` header, which another site's page cannot add
  without the server's consent to a CORS preflight (never given), and an
  `Origin`, when there is one, naming this server: its host and its port (the
  Host header's). Elsewhere it needs the key.
- An export's download link (`/local/api/cockpit/exports/<ticket>`, export.py) needs
  no key: its ticket, made for a request that had the key (or came from the page), is
  the credential, for one download within a minute. A browser cannot send a header
  when it follows a link, and the key never goes into a URL.
- Everything else needs the key, as before.

The Host check against DNS rebinding (gate.py) applies to all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from urllib.parse import urlsplit

from runner.localserver.gate import Need, host_name

PAGE_PREFIX = "/cockpit/"
DATA_PREFIX = "/local/api/cockpit/"
DOWNLOADS = DATA_PREFIX + "exports/"  # + a ticket
PAGE_HEADER = "X-XC-Cockpit"  # the page sends it, with the value "1", on every data request
_SAME_SITE = ("same-origin", "none")
_DEFAULT_PORTS = {"http": 80, "https": 443}

Header = Callable[[str], str | None]  # a request header by its name ("Origin"), or None


def need(method: str, path: str, header: Header, own_names: Collection[str]) -> Need:
    """What the request for `path` needs; `own_names` are the Host names of this server."""
    if is_page_file(method, path) or (method == "GET" and path.startswith(DOWNLOADS)):
        return Need.NOTHING
    if path.startswith(DATA_PREFIX) and from_the_page(header, own_names):
        return Need.KEY_OFF_LOOPBACK
    return Need.KEY


def is_page_file(method: str, path: str) -> bool:
    """Whether the request is for one of the page's files (assets.py)."""
    return method == "GET" and (path == "/" or path.startswith(PAGE_PREFIX))


def from_the_page(header: Header, own_names: Collection[str]) -> bool:
    """Whether a request shows it was sent by the cockpit page served from this server."""
    if header(PAGE_HEADER) != "1":
        return False
    site = header("Sec-Fetch-Site")
    if site is not None and site not in _SAME_SITE:
        return False
    origin = header("Origin")
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if not parts.netloc or host_name(parts.netloc) not in own_names:
        return False
    # The same host on another port is another site (another server on loopback).
    return port is not None and port == _host_port(header("Host"))


def _host_port(host: str | None) -> int | None:
    """The port the Host header names (80 when it names none)."""
    if not host:
        return None
    try:
        return urlsplit(f"http://{host.strip()}").port or 80
    except ValueError:
        return None
