"""A loopback TCP proxy the browser tests put between a page and its server, to drop the
page's connections the way a network loss or a proxy restart does."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

HOST = "127.0.0.1"


class CuttableProxy:
    """A loopback TCP proxy in front of the app that can drop every connection at once, or
    refuse new ones for a while: a network loss or a proxy restart, seen from the browser.
    ``refusing_push`` refuses only the push's websocket: a proxy or firewall that lets plain
    HTTP through but not the upgrade."""

    def __init__(self, target_port: int) -> None:
        import socket

        self._socket = socket
        self.target = target_port
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.open: set[Any] = set()
        self.refusing = threading.Event()
        self.refusing_push = threading.Event()
        self.accepted = 0
        self.refused = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set() or (self.refusing_push.is_set() and self._asks_for_push(client)):
                client.close()
                self.refused += 1
                continue
            try:
                upstream = self._socket.create_connection((HOST, self.target))
            except OSError:  # the app is gone (a test's teardown): as a proxy would, drop the client
                client.close()
                continue
            with self._lock:
                self.open.update((client, upstream))
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _asks_for_push(self, client: Any) -> bool:
        client.settimeout(5)
        try:
            head = client.recv(64, self._socket.MSG_PEEK)
        except OSError:
            return False
        finally:
            client.settimeout(None)
        return head.startswith(b"GET /_citywall/push")

    def _pipe(self, source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65_536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(self._socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            for s in self.open:
                with contextlib.suppress(OSError):
                    s.shutdown(self._socket.SHUT_RDWR)
            self.open.clear()

    def close(self) -> None:
        self.listener.close()
        self.cut()
