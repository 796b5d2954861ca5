"""Real services for integration tests, each on its own free loopback port.

The dashboard's failure modes (broker restarts, lost Redis state, a wall
that renders nothing) only show up against the real programs, so these
fixtures run Debian's mosquitto, redis-server and chromium rather than
mocks. Nothing listens on a default port: CI machines may already run a
system redis or mosquitto there, and tests must not share state with them.

Loaded as a pytest plugin from ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

from dashboard.local_services import (  # noqa: F401 - re-exported for the tests
    CHROMIUM_ARGS,
    HOST,
    Mosquitto,
    RedisServer,
    chromium_binary,
    free_port,
    start_process,
    stop_group,
    wait_for_port,
    wait_until,
)

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Prefix for running the app the way ``citywall`` does, but from this
#: checkout and this interpreter, without needing the console script.
CITYWALL_CMD: tuple[str, ...] = (sys.executable, "-m", "dashboard.cli")



# --------------------------------------------------------------------------
# reading without a login

#: The product is closed by default: reading needs a login or a kiosk token. Most tests are
#: about something else (feeds, panels, restarts) and read pages and the API as a script
#: would, so the whole run opens anonymous reading here, in one place, through the same
#: setting an integrator uses. Apps started in-process (``load_config()``) and processes
#: (``CitywallProcess`` inherits the environment) both see it. Identity tests opt out by
#: building their config with ``environ={}`` or passing ``{ANONYMOUS_READ_ENV: "false"}``.
ANONYMOUS_READ_ENV = "CITYWALL_AUTH_ANONYMOUS_READ"


def pytest_configure(config: pytest.Config) -> None:
    os.environ[ANONYMOUS_READ_ENV] = "true"


# --------------------------------------------------------------------------
# helpers


# free_port, wait_for_port and the process plumbing live in dashboard.local_services, shared
# with the benchmarks and scripts.
_popen = start_process
_stop_group = stop_group


# --------------------------------------------------------------------------
# Mosquitto


@pytest.fixture
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A fresh broker per test: retained messages and sessions never leak
    between tests, and a test may restart or kill it freely."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def mosquitto_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for tests that only publish and subscribe on their own
    topics; saves a process start per test. Do not restart it."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-session"))
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


# --------------------------------------------------------------------------
# Redis


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the test's own, for tests that stop, restart or kill it."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One shared Redis for the whole run; see ``redis_url``."""
    server = RedisServer(tmp_path_factory.mktemp("redis-session"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_session: RedisServer) -> Iterator[str]:
    """URL of the shared Redis, emptied first so a test never sees another's
    keys, without paying for a server start per test."""
    import redis

    client = redis.Redis.from_url(redis_session.url)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_session.url


# --------------------------------------------------------------------------
# Chromium (Playwright driving Debian's chromium)


_chromium_binary = chromium_binary


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the run; starting it costs about a second,
    and fresh contexts (``page_factory``) already isolate tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=_chromium_binary(),
            headless=True,
            args=list(CHROMIUM_ARGS),
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_factory(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Pages in fresh contexts (no shared cookies, storage or cache), sized
    like a wall screen by default; a test may open several, e.g. two
    screens of one wall. All are closed at teardown."""
    contexts: list[BrowserContext] = []

    def make(width: int = 1920, height: int = 1080) -> Page:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        return ctx.new_page()

    try:
        yield make
    finally:
        for ctx in contexts:
            try:
                ctx.close()
            except Exception:  # already gone with a crashed browser
                pass


# --------------------------------------------------------------------------
# The app itself as a subprocess


class CitywallProcess:
    """The app run as a real process, so tests can crash it (SIGKILL),
    stop it gracefully, restart it and read what it logged, the way an
    operator's supervisor would."""

    def __init__(
        self,
        cmd: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.log_path = Path(log_path)
        # Unbuffered, so log_text() shows what happened up to a crash.
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd or REPO_ROOT
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> CitywallProcess:
        self._log = open(self.log_path, "ab")
        self.proc = _popen(self.cmd, self._log, env=self.env, cwd=self.cwd)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Block until ``url`` answers 200; fail at once if the process
        died, with its log in the message, since that is the useful part."""
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            if not self.alive:
                raise RuntimeError(f"{self.cmd!r} exited with {self.returncode} before {url} answered:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last = resp.status
            except urllib.error.HTTPError as exc:
                last = exc.code
            except (urllib.error.URLError, OSError) as exc:
                last = exc
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s (last: {last!r}):\n{self.log_text()}")
            time.sleep(0.1)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the main process only, like a crash or an OOM kill of the
        app itself; with SIGKILL, also reap it so it is really gone."""
        assert self.proc is not None, "not started"
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig == signal.SIGKILL:
                self.proc.wait()

    def terminate(self, timeout: float = 5.0) -> int:
        """Graceful stop of the whole process group, SIGKILL after
        ``timeout``; returns the exit code."""
        code = 0
        if self.proc is not None:
            code = _stop_group(self.proc, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self) -> str:
        return f"<CitywallProcess {self.cmd!r} alive={self.alive}>"


@pytest.fixture
def citywall_proc(tmp_path: Path) -> Iterator[Callable[..., CitywallProcess]]:
    """Factory ``start(cmd, env=None, cwd=None)`` for app processes; every
    one it started is stopped at teardown, pass or fail, so a crashed test
    never leaves a server holding a port for the next."""
    started: list[CitywallProcess] = []

    def start(
        cmd: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
    ) -> CitywallProcess:
        log_path = tmp_path / f"citywall-{len(started)}.log"
        proc = CitywallProcess(cmd, log_path, env=env, cwd=cwd)
        started.append(proc)
        return proc.start()

    try:
        yield start
    finally:
        for proc in started:
            proc.terminate(timeout=5.0)
