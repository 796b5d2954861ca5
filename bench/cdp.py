"""A bare Chrome DevTools Protocol client: Chromium with nothing watching but what we ask.

Playwright turns on the DevTools Network domain in every page it drives, and with it the
renderer keeps a record of each request the page makes (DevTools' NetworkResourcesData).
A kiosk page makes a request a second, so in an hour-long heap soak those records are part
of what is measured, and they are not the page's memory. A kiosk runs with no DevTools
attached, so the soak does the same: it starts Chromium itself, opens each page in its own
window (a background tab would be throttled) and sends only the commands it needs, with no
domain enabled that records anything.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from dashboard.local_services import CHROMIUM_ARGS, chromium_binary

#: what Playwright also passes, so a page in a window nobody looks at still draws every frame
UNTHROTTLED = (
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
)


class Session:
    """One DevTools websocket (the browser's or a page's); commands are answered in order."""

    def __init__(self, url: str) -> None:
        self._ws: ClientConnection = connect(url, max_size=None, open_timeout=30)
        self._ids = itertools.count(1)

    def send(self, method: str, params: dict[str, Any] | None = None, timeout_s: float = 60) -> dict[str, Any]:
        """Send a command and return its result, skipping any event that arrives first."""
        n = next(self._ids)
        self._ws.send(json.dumps({"id": n, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") != n:
                continue
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def close(self) -> None:
        self._ws.close()


class Browser:
    """A headless Chromium started with a DevTools port on loopback; closed with ``close``."""

    def __init__(self, extra_args: tuple[str, ...] = ()) -> None:
        # Chromium's helper processes may still write to the profile as the browser exits
        self._profile = tempfile.TemporaryDirectory(prefix="citywall-cdp-", ignore_cleanup_errors=True)
        self._process = subprocess.Popen(
            [
                chromium_binary(),
                "--headless",
                *CHROMIUM_ARGS,
                *UNTHROTTLED,
                *extra_args,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self._profile.name}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.pages: list[Session] = []
        try:
            self.port = self._read_port(Path(self._profile.name) / "DevToolsActivePort")
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=10) as r:
                self._browser = Session(json.load(r)["webSocketDebuggerUrl"])
        except BaseException:
            self._stop()  # a browser that never answered is not left running
            raise

    def _read_port(self, path: Path, timeout_s: float = 30) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._process.returncode}")
            if path.exists() and (lines := path.read_text().splitlines()):
                return int(lines[0])
            time.sleep(0.1)  # Chromium writes the file once its port is open; nothing to wait on
        raise TimeoutError("chromium did not open its DevTools port")

    def open(self, url: str, width: int, height: int) -> Session:
        """A new window of ``width`` x ``height`` CSS pixels showing ``url``."""
        target = self._browser.send("Target.createTarget", {"url": "about:blank", "newWindow": True})
        page = Session(f"ws://127.0.0.1:{self.port}/devtools/page/{target['targetId']}")
        page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        page.send("Page.navigate", {"url": url})
        self.pages.append(page)
        return page

    def close(self) -> None:
        for page in self.pages:
            page.close()
        self._browser.close()
        self._stop()

    def _stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._profile.cleanup()


def evaluate(page: Session, expression: str) -> Any:
    """The value of a JS expression in the page (JSON-serialisable values only)."""
    result = page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
    if "exceptionDetails" in result:
        raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails'].get('text')}")
    return result["result"].get("value")
