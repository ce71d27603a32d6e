"""Who may talk to the local server: the Host check on loopback, then the API key.

Pure: it reads two header values, and what the request needs (the key, or not:
the cockpit's page and its data on loopback, cockpit/access.py), and answers
with the refusal, or None. The transport calls it as soon as a request's
headers are in, before any body is read; the application calls it again for
every request.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import re

from runner.localserver.errors import HttpError, quoted

# The names a browser sends for a loopback server. Any other Host on a loopback
# listener is a page that rebound its own name to 127.0.0.1 (DNS rebinding).
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST = re.compile(r"(?P<name>\[[^\]]*\]|[^:\[\]]*)(?::[0-9]*)?")


class Need(enum.Enum):
    """What a request needs besides a right Host (which requests need what: cockpit/access.py)."""

    KEY = "the API key"
    KEY_OFF_LOOPBACK = "the API key, unless the server listens on loopback"
    NOTHING = "nothing"


def is_loopback(host: str) -> bool:
    """Whether a listening address only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str | None:
    """The name part of a Host header (lower case, IPv6 in brackets), without its port."""
    found = _HOST.fullmatch(header.strip())
    return found["name"].lower() if found else None


class Gate:
    """The checks every request passes, in order: its Host (on loopback only), then its key."""

    def __init__(self, api_key: str, listen_host: str) -> None:
        self._key = api_key.encode("utf-8")
        self.check_host = is_loopback(listen_host)
        own = f"[{listen_host}]" if ":" in listen_host else listen_host
        self.host_names = LOOPBACK_NAMES | {own.lower()}

    def refusal(
        self, host: str | None, authorization: str | None, need: Need = Need.KEY
    ) -> HttpError | None:
        """HttpError 403 for a foreign Host, 401 for a missing or wrong key when the
        request `need`s one (cockpit/access.py); None to go on."""
        refused = self.host_refusal(host)
        if refused is not None or need is Need.NOTHING:
            return refused
        if need is Need.KEY_OFF_LOOPBACK and self.check_host:
            return None
        return self.key_refusal(authorization)

    def host_refusal(self, host: str | None) -> HttpError | None:
        """403 when listening on loopback and `host` is not a loopback name."""
        if not self.check_host or (host is not None and host_name(host) in self.host_names):
            return None
        named = "the Host header is missing" if host is None else f"Host {quoted(host)}"
        return HttpError(
            403,
            f"{named}: a server listening on loopback answers only requests for 127.0.0.1, "
            "localhost or [::1] (a defence against DNS rebinding)",
        )

    def key_refusal(self, header: str | None) -> HttpError | None:
        """401 unless `header` is `bearer <the key>` (the scheme in any case)."""
        if not header:
            return HttpError(
                401, "Authorization header missing; send 'Authorization: bearer <key>'"
            )
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer":
            return HttpError(401, f"Authorization scheme {quoted(scheme)} is not bearer")
        if not hmac.compare_digest(_sent_bytes(key.strip()), self._key):
            return HttpError(401, "wrong API key in the Authorization header")
        return None


def _sent_bytes(text: str) -> bytes:
    """The bytes of a header value: servers decode them as latin-1, so encoding back gives them."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # not from the wire: a str given as text
        return text.encode("utf-8")
