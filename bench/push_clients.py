"""Pages without a browser: websocket clients that speak the page's end of the push.

A wall of 24 Chromium pages needs more CPU to draw than this 2-core machine has, so a server
benchmark that opens them measures Chromium, not the server. Each client here does what
``assets/push.js`` does on the wire and nothing more: it connects to ``PUSH_PATH``, says
which parts it holds (the ``data-cw-parts`` of the page it stands for, read from that page
once in a real browser), and answers every frame at once with ``{"ack": version}`` -- as a
page that draws instantly would, so the server sends it at least as many frames as it would
send a real one. A trial's text counts as shown when it is in a frame the client received.

All clients run on one asyncio loop in a thread of their own; the caller arms a needle,
publishes, and reads when each client first received it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from dataclasses import dataclass, field

import websockets

PUSH_PATH = "/_citywall/push"
_VERSION = re.compile(rb'^\{"v":(-?\d+)')


@dataclass
class Client:
    """One page's connection: what it claims, where it is connected, what it received."""

    name: str
    parts: str
    local_port: int | None = None
    frames: int = 0
    bytes: int = 0
    seen_ms: float | None = None
    closed: str | None = None
    connected: threading.Event = field(default_factory=threading.Event)


class PushClients:
    """``pages`` maps a page name to its ``data-cw-parts`` text; one client each, connected to ``base``."""

    def __init__(self, base: str, pages: dict[str, str]) -> None:
        self.base = base
        self.clients = {name: Client(name, parts) for name, parts in pages.items()}
        self.needle: bytes | None = None
        self._loop = asyncio.new_event_loop()
        self._tasks: list[asyncio.Task[None]] = []
        self._thread = threading.Thread(target=self._loop.run_forever, name="push-clients", daemon=True)

    def start(self, timeout: float = 60) -> None:
        self._thread.start()
        for client in self.clients.values():
            asyncio.run_coroutine_threadsafe(self._spawn(client), self._loop).result(10)
        deadline = time.monotonic() + timeout
        for client in self.clients.values():
            if not client.connected.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError(f"{client.name}: the push did not connect ({client.closed or 'no answer'})")

    async def _spawn(self, client: Client) -> None:
        self._tasks.append(asyncio.create_task(self._run(client)))

    async def _run(self, client: Client) -> None:
        url = self.base.replace("http://", "ws://", 1) + PUSH_PATH
        try:
            async with websockets.connect(url, origin=self.base, max_size=None, ping_interval=None) as ws:  # type: ignore[arg-type]
                client.local_port = ws.transport.get_extra_info("sockname")[1]
                await ws.send(f'{{"parts":{client.parts}}}')
                async for message in ws:
                    data = message.encode() if isinstance(message, str) else message
                    client.frames += 1
                    client.bytes += len(data)
                    client.connected.set()
                    needle = self.needle
                    if needle is not None and client.seen_ms is None and needle in data:
                        client.seen_ms = time.time() * 1000
                    version = _VERSION.match(data)
                    if version:
                        await ws.send(b'{"ack":%s}' % version.group(1))
        except (OSError, websockets.WebSocketException) as exc:
            client.closed = f"{type(exc).__name__}: {exc}"
        else:
            client.closed = "closed by the server"

    def arm(self, needle: str) -> None:
        """Forget the last trial and watch for ``needle``."""
        for client in self.clients.values():
            client.seen_ms = None
        self.needle = needle.encode()

    def seen(self) -> dict[str, float | None]:
        return {name: client.seen_ms for name, client in self.clients.items()}

    def stop(self) -> None:
        async def cancel() -> None:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(BaseException):
                    await task

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(cancel(), self._loop).result(30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
