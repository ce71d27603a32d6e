"""Which idle connections the local server closes: pure, over what each connection shows.

A connection costs a slot (the server holds at most a fixed number) but no thread while
it waits. Without a bound on waiting, a few hundred connections that never send a
request would hold every slot, and every client, keyed or not, would wait for them to
time out. So:

- a connection that has not sent the headers of its first request within
  FIRST_REQUEST_S of opening is closed (idle at connect, or trickling its headers);
- a connection idle between requests is closed after KEEP_ALIVE_S;
- when every slot is taken, the connections that wait for nothing of the server's
  (no request being run or answered) are closed, longest idle first, a quarter of the
  slots at a time, so that new connections are always accepted.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FIRST_REQUEST_S = 5.0
KEEP_ALIVE_S = 60.0


@dataclass(frozen=True)
class Seen:
    """What the server sees of one connection."""

    key: int  # which connection
    opened_at: float
    last_activity: float
    started: bool  # the headers of a request were received
    busy: bool  # a request (past its headers) is being read, run or answered


def to_close(connections: Iterable[Seen], now: float, limit: int) -> list[int]:
    """The connections to close now, by key."""
    seen = list(connections)
    closing = [c.key for c in seen if _expired(c, now)]
    remaining = len(seen) - len(closing)
    if remaining >= limit:
        idle = sorted(
            (c for c in seen if not c.busy and c.key not in closing),
            key=lambda c: c.last_activity,
        )
        closing += [c.key for c in idle[: max(1, limit // 4)]]
    return closing


def _expired(connection: Seen, now: float) -> bool:
    if not connection.started:
        return now - connection.opened_at > FIRST_REQUEST_S
    return not connection.busy and now - connection.last_activity > KEEP_ALIVE_S


def seen(channel: Any) -> Seen:
    """What the policy looks at in one of waitress's channels (transport.py)."""
    request = channel.request
    started = (
        channel.started
        or bool(channel.requests)
        or (request is not None and request.headers_finished)
    )
    channel.started = started
    busy = (
        bool(channel.requests)
        or bool(channel.total_outbufs_len)
        or (request is not None and request.headers_finished)
    )
    return Seen(id(channel), channel.creation_time, channel.last_activity, started, busy)


def close_idle(server: Any, now: float, kind: type[Any], limit: int) -> None:
    """waitress's maintenance (its loop calls it once a second): this policy, applied to
    the server's channels of `kind`."""
    channels: dict[int, Any] = {
        id(channel): channel
        for channel in list(server.active_channels.values())
        if isinstance(channel, kind) and not channel.will_close
    }
    room = limit - (len(server._map) - len(server.active_channels))  # the listener's, the trigger's
    for key in to_close([seen(channel) for channel in channels.values()], now, room):
        channels[key].will_close = True  # the loop closes it


def accepting(server: Any, kind: type[Any], limit: int) -> bool:
    """waitress's readable() for the listener, which stops accepting at the limit, after
    making room."""
    if len(server._map) >= limit:
        close_idle(server, time.time(), kind, limit)
    return bool(type(server).readable(server))


def accept_many(server: Any, limit: int, most: int = 64) -> None:
    """waitress's handle_accept() takes one connection per turn of its loop; this takes
    those waiting, up to `most` and the limit, so that a queue of connections drains fast."""
    for _ in range(most):
        before = len(server._map)
        if before >= limit:
            return
        type(server).handle_accept(server)
        if len(server._map) == before:  # none was waiting (or it failed)
            return
