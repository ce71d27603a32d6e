"""waitress's select loop and its shutdown, for both listeners: the operations listener
(runner/ops/http.py) and the local server's transport (runner/localserver/transport.py).

A module of its own so that the local server, which uses it, does not load the
operations listener's prometheus_client.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress import wasyncore
from waitress.server import BaseWSGIServer

_LOOP_S = 1.0  # the select loop's longest sleep; close_connections() wakes it at once


class ServerLoop:
    """waitress's select loop over `sockets` (the map `server` was made with): run() in one
    thread, close_connections() and stop_threads() from another."""

    def __init__(self, server: BaseWSGIServer, sockets: dict[int, Any]) -> None:
        self._server = server
        self._sockets = sockets
        self._stop = threading.Event()
        # run() closes every socket, the loop's wake-up trigger too; close_connections()
        # must not pull a trigger already closed (its number may be another file's now).
        self._closing = threading.Lock()
        self._closed = False

    def run(self) -> None:
        """The select loop, until close_connections(); it then closes every socket itself."""
        while not self._stop.is_set():
            wasyncore.loop(timeout=_LOOP_S, use_poll=True, map=self._sockets, count=1)
        with self._closing:
            wasyncore.close_all(self._sockets)
            self._closed = True

    def close_connections(self) -> None:
        """Make run() close the listener and every connection, and return."""
        with self._closing:
            self._stop.set()
            if not self._closed:
                self._server.pull_trigger()  # wakes the loop now, not at its next timeout

    def stop_threads(self, timeout_s: float) -> None:
        """Wait for the request threads to finish their request, then end them."""
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=round(timeout_s))
