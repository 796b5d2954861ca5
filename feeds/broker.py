"""An MQTT broker inside the process, for ``citywall demo`` when no broker URL is configured.

The demo must run with nothing else installed, yet take the same path as production:
simulator -> MQTT -> adapter -> store. amqtt is a pure-Python broker, so it ships as a
normal dependency. It runs on its own asyncio loop in a daemon thread because the rest of
citywall is threaded (paho, the web server) and must not be made to share a loop.

amqtt speaks MQTT 3.1.1 only: clients connecting here must use ``EmbeddedBroker.protocol``
(no MQTT 5 shared subscriptions or session expiry, which a single demo process never needs).
It keeps no state on disk; that is fine for a demo and wrong for production.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, so parallel runs never collide; the tiny race until
    the caller binds it is accepted.

    The one definition: it lives here because ``feeds`` imports nothing of the other packages
    and the embedded broker needs it; ``dashboard.local_services`` hands it on to tests,
    benchmarks and scripts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


#: amqtt's loggers that tell of each message a client left unacknowledged: the protocol
#: handler once per message (counted), the broker again with a traceback (dropped).
HANDLER_LOGGER, BROKER_LOGGER = "amqtt.mqtt.protocol.handler", "amqtt.broker"
UNACKED_LOGGERS = (BROKER_LOGGER, HANDLER_LOGGER)
UNACKED = "Timeout waiting for PUBACK"


class Unacked(logging.Filter):
    """One line a minute at most for the messages a client left unacknowledged, with how many
    it stands for, where amqtt says each one twice, once as an error with a traceback.

    Ingest holds its acknowledgements while the store is away, so that the broker sends those
    messages again (``feeds.mqtt``). Under the demo's simulator 30 s of a Redis outage was
    some 1,300 lines of amqtt's, around the few of ours that said what happened."""

    EVERY_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.Lock()
        self._said_at = -self.EVERY_S
        self._held = 0  # messages not said since the last line

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            unacked = UNACKED in record.getMessage()
        except Exception:  # a record amqtt got wrong: its handler reports it as usual
            return True
        if not unacked:
            return True
        if record.name != HANDLER_LOGGER:
            return False  # the same message again, from the broker's task
        with self._lock:
            now = self._clock()
            if now - self._said_at < self.EVERY_S:
                self._held += 1
                return False
            held, self._held, self._said_at = self._held, 0, now
        record.msg = (
            "a client has not acknowledged a message in time (ingest holds its acknowledgements while the store is away)%s"
        )
        record.args = (f"; {held} more since the last such line" if held else "",)
        record.exc_info, record.exc_text = None, None
        return True

    def held(self) -> int:
        """Messages not said yet, and forgotten: the count for a last line."""
        with self._lock:
            held, self._held = self._held, 0
        return held


class EmbeddedBroker:
    """amqtt's ``Broker`` on a private event loop; ``start`` returns once it listens."""

    protocol = "3.1.1"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._unacked = Unacked()

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def _config(self) -> dict[str, Any]:
        # Only anonymous auth: amqtt's default plugin set also logs every packet and
        # publishes $SYS topics, which costs CPU the demo would rather give the wall.
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

    def start(self, timeout: float = 10.0) -> None:
        """Run the broker thread and block until it accepts connections (or failed)."""
        if self._thread is not None:
            return
        self._quiet_amqtt(True)
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"embedded MQTT broker did not start on {self.host}:{self.port} within {timeout:.0f}s")
        if self._error is not None:
            self._thread = None
            self._quiet_amqtt(False)
            raise RuntimeError(f"embedded MQTT broker failed on {self.host}:{self.port}: {self._error}") from self._error
        log.info("embedded MQTT broker listening on %s", self.url)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_broker())
        except BaseException as exc:  # reported to start(), which raises it in the caller
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _start_broker(self) -> None:
        from amqtt.broker import Broker  # imported late: only the demo pays for it

        self._broker = Broker(self._config(), loop=asyncio.get_running_loop())
        await self._broker.start()  # returns after its listening sockets are bound

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the broker down (clients see a lost connection) and end its thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._broker is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop)
            try:
                future.result(timeout)
            except Exception:
                log.warning("embedded MQTT broker did not shut down cleanly", exc_info=True)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._quiet_amqtt(False)
        self._thread = None
        self._loop = None
        self._broker = None
        self._ready.clear()

    def _quiet_amqtt(self, on: bool) -> None:
        """The ``Unacked`` filter on amqtt's loggers while this broker runs; taken off, it
        says how many unacknowledged messages it held back since its last line."""
        for name in UNACKED_LOGGERS:
            if on:
                logging.getLogger(name).addFilter(self._unacked)
            else:
                logging.getLogger(name).removeFilter(self._unacked)
        if not on and (held := self._unacked.held()):
            log.warning("a client left %d more messages unacknowledged before the broker stopped", held)

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
