"""How a process hears that the Redis store changed: one pub/sub subscriber thread."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

#: Pause after a lost subscription, doubling up to the cap.
RETRY_BASE_S = 0.1
RETRY_CAP_S = 2.0


class ChangeListener:
    """One subscriber thread per store, waking every local waiter; started on first wait.

    A waiter is woken by any "changed" message (it names a family and that family's counter,
    not the store's version, which is a sum), or by a (re)subscription, after which anything
    may have been missed; either way it reads the version again, so the returned number is
    always the stored one. ``urgent`` counts the messages of urgent changes, before their
    waiters are woken.
    """

    POLL_S = 1.0

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self._client = client
        self._channel = channel
        self._cond = threading.Condition()
        self._messages = 0
        self._resyncs = 0
        self.urgent = 0
        self.listening = False
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def wait(self, since: int, timeout: float | None, read: Callable[[], int]) -> int:
        """Also returns when an urgent change is heard, whatever the version: its message can
        come after a waiter has already read the version that holds it."""
        self._start()
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        urgent = self.urgent
        while True:
            with self._cond:
                marks = (self._messages, self._resyncs)
            current = read()  # after taking the marks, so a change in between is never lost
            remaining = deadline - time.monotonic()
            if current > since or self.urgent != urgent or remaining <= 0 or self._closed.is_set():
                return current
            self._await(marks, remaining)

    def _await(self, marks: tuple[int, int], remaining: float) -> None:
        def woken() -> bool:
            return (self._messages, self._resyncs) != marks or self._closed.is_set()

        with self._cond:
            self._cond.wait_for(woken, timeout=None if math.isinf(remaining) else remaining)

    def stop(self) -> None:
        """Release every waiter now; the thread ends at its next read."""
        self._closed.set()
        with self._cond:
            self._cond.notify_all()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=2 * self.POLL_S)

    def _start(self) -> None:
        """Also restarts a thread lost to ``fork`` (a pre-loading web server), where only the
        forking thread survives in the child."""
        with self._cond:
            alive = self._thread is not None and self._thread.is_alive()
            if not alive and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="citywall-store-changed", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Subscribe, listen, and after any failure start over with a fresh subscription."""
        pause = RETRY_BASE_S
        while not self._closed.is_set():
            pubsub = self._client.pubsub()
            try:
                pubsub.subscribe(self._channel)
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=self.POLL_S)
                    if message is not None:
                        self._on_message(message)
                        pause = RETRY_BASE_S
            except Exception:  # noqa: BLE001 - whatever broke, the listener must live on
                self._closed.wait(pause)
                pause = min(2 * pause, RETRY_CAP_S)
            finally:
                self.listening = False
                _quietly(pubsub.close)

    def _on_message(self, message: dict[str, Any]) -> None:
        with self._cond:
            if message["type"] == "message":
                self._messages += 1
                data = message["data"]
                self.urgent += (data.decode() if isinstance(data, bytes) else str(data)).endswith(" urgent")
            elif message["type"] == "subscribe":
                self._resyncs += 1
                self.listening = True
            self._cond.notify_all()


def _quietly(action: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is already gone
        action()
