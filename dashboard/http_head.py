"""HTTP/1.1 for the web server: a request's head must arrive within ``HEAD_TIMEOUT_S``.

uvicorn waits for a request's line and headers for as long as the client takes: a client
that opened connections and sent a byte now and then (or nothing) held each one, and a few
hundred of them took the worker's file descriptors, without a login (they never reach the
guard). nginx cuts such clients off in the deploy (``client_header_timeout``); a ``demo`` or
a ``serve`` reached directly has only this. The time runs from the connection, or from the
first byte of the next request on a kept-alive one; the body and the answer are not timed
here, and a websocket, once upgraded, has its own pings.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a request's line and headers (nginx's default is 60).
HEAD_TIMEOUT_S = 15.0

log = logging.getLogger("citywall.http")


class HeadTimedH11(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is too slow to come."""

    head_timeout_s: float = HEAD_TIMEOUT_S
    _head_timer: asyncio.TimerHandle | None = None
    _upgraded = False  # the connection is a websocket's now

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._upgraded or not self._reading_head():
            self._disarm()
        elif self._head_timer is None:  # the first bytes of a kept-alive connection's next request
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._upgraded = True  # the websocket's protocol takes the connection over, with its pings
        self._disarm()
        super().handle_websocket_upgrade(event)

    def _reading_head(self) -> bool:
        """No request is being answered: what comes now is (part of) the next head."""
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if self._reading_head() and not self.transport.is_closing():
            log.info("closed a connection whose request head took over %g s", self.head_timeout_s)
            self.transport.close()
