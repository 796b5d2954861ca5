"""HTTP/1.1 for the web server: a request's head, and then its body, must arrive in time.

uvicorn waits for a request's line and headers, and for its body, for as long as the client
takes: a client that opened connections and sent a byte now and then (or nothing) held each
one, and a few hundred of them took the worker's file descriptors, without a login (they
never reach the guard). A head has ``HEAD_TIMEOUT_S`` from the connection, or on a kept-alive
one from the end of the answer before it; a body ``BODY_TIMEOUT_S`` from the end of its head,
whole (the guard caps its size: the largest body allowed by default, 1 MiB, needs
35 KiB/s; a callback's, 256 KiB, under 9). nginx cuts such clients off in the deploy
(``client_header_timeout``, ``client_body_timeout``); a ``demo`` or a ``serve`` reached
directly has only this. The answer is not timed here, and a websocket, once upgraded, has
its own pings.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a request's line and headers (nginx's default is 60).
HEAD_TIMEOUT_S = 15.0
#: Seconds a client has to send a request's body once its head is in.
BODY_TIMEOUT_S = 30.0

log = logging.getLogger("citywall.http")


class TimedH11(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head or body is too slow to come."""

    head_timeout_s: float = HEAD_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    _timer: asyncio.TimerHandle | None = None
    _waiting_for = ""  # "head" or "body": what the running timer is for
    _upgraded = False  # the connection is a websocket's now

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("head")

    def handle_events(self) -> None:
        """Where uvicorn reads requests: for bytes just received, and for a pipelined request
        once the one before it is answered (which ``data_received`` never sees)."""
        super().handle_events()
        self._arm(self._awaited())

    def connection_lost(self, exc: Exception | None) -> None:
        self._arm("")
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._upgraded = True  # the websocket's protocol takes the connection over, with its pings
        self._arm("")
        super().handle_websocket_upgrade(event)

    def _awaited(self) -> str:
        """What the server waits for from the client now: "head", "body" or nothing ("")."""
        if self._upgraded:
            return ""
        if self.cycle is None or self.cycle.response_complete:
            return "head"  # no request is being answered: what comes now is (part of) the next head
        return "body" if self.conn.their_state is h11.SEND_BODY else ""

    def _arm(self, part: str) -> None:
        """Time ``part`` from now, unless its timer already runs; "" stops the timer."""
        if part and part == self._waiting_for:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting_for = part
        if part:
            limit = self.head_timeout_s if part == "head" else self.body_timeout_s
            self._timer = self.loop.call_later(limit, self._too_slow, part, limit)

    def _too_slow(self, part: str, limit: float) -> None:
        self._timer, self._waiting_for = None, ""
        if self._awaited() == part and not self.transport.is_closing():
            log.info("closed a connection whose request %s took over %g s", part, limit)
            self.transport.close()
