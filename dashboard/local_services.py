"""Mosquitto, Redis and Chromium of our own, on free loopback ports, for tests, benchmarks and scripts.

The integration tests, the benchmarks in ``bench/`` and the screenshot scripts all need the real
programs, started privately so that nothing listens on a default port (a machine may already
run a system broker or Redis there) and nothing outlives the run. They used to carry three
copies of the same launchers; this module is the one copy. It lives in the package, not in
``tests/``, because the benchmarks and scripts must not import the test suite; importing it
costs nothing (no third-party import at the top).

Each service is stopped with SIGTERM first, so it can flush what it keeps (mosquitto's
persistence file, Redis's AOF), and SIGKILL after a grace period, so a hung one can never
hang the caller; a child also dies with its parent (``PR_SET_PDEATHSIG``), so a run killed
hard leaves no broker holding a port.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from feeds.broker import free_port  # the one definition; tests and benchmarks take it from here

if TYPE_CHECKING:
    from dashboard.config import Config

HOST = "127.0.0.1"
T = TypeVar("T")

#: Chromium flags. The machine has no network beyond package registries, so everything that
#: phones home is switched off; otherwise Chromium retries refused connections in the
#: background and slows every page. Running as root needs --no-sandbox; /dev/shm is small in
#: containers.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


# --- waiting for conditions, not for time ----------------------------------------------------------
def wait_until(check: Callable[[], T], timeout: float = 10.0, what: str = "condition", interval: float = 0.05) -> T:
    """Poll ``check`` until it returns something truthy and return that; ``TimeoutError`` naming
    ``what`` otherwise. The timeout only bounds a failure: a passing caller never waits it out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except Exception as exc:  # a service still starting answers with errors
            result = exc  # type: ignore[assignment]
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} did not hold within {timeout:g} s (last: {result!r})")
        time.sleep(interval)


def port_open(port: int, host: str = HOST) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def redis_answers(port: int, host: str = HOST) -> bool:
    """Redis listens before it has loaded its data and answers -LOADING meanwhile; PONG means ready."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")
    return False


def wait_for_port(host: str, port: int, timeout: float = 10.0, *, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Block until something accepts TCP connections on host:port.

    A started process is not ready until it listens. Passing ``proc`` fails fast when the
    program died (bad config, port taken) instead of waiting out the timeout.
    """

    def ready() -> bool:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {host}:{port}")
        return port_open(port, host)

    wait_until(ready, timeout, f"something listening on {host}:{port}")


# --- processes -------------------------------------------------------------------------------------
def _load_prctl() -> Callable[[int, int], int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: stopping still stops all
        return None


# Resolved here, not in the child: after fork only async-signal-safe work is sound, and
# dlopen/dlsym may take locks another thread held at fork time.
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if the parent is killed hard, the kernel kills the service too."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def start_process(cmd: Sequence[str], log: IO[bytes], **kwargs: object) -> subprocess.Popen[bytes]:
    """A child in a session of its own, so a stop signal reaches its children too (uvicorn
    workers, reloaders) and not the caller."""
    return subprocess.Popen(  # type: ignore[call-overload]
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
        **kwargs,
    )


def stop_group(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM to the whole group so services can flush; SIGKILL if they hang. Returns the exit code."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(proc, signal.SIGKILL)  # the leader may be gone while its children still run
    return proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "<no log>"


def _binary(name: str, fallback: str) -> str | None:
    """Debian puts mosquitto in /usr/sbin, which is not on every user's PATH."""
    return shutil.which(name) or (fallback if Path(fallback).exists() else None)


def mosquitto_binary() -> str | None:
    return _binary("mosquitto", "/usr/sbin/mosquitto")


def redis_binary() -> str | None:
    return _binary("redis-server", "/usr/bin/redis-server")


def chromium_binary() -> str:
    """Debian's chromium; never a browser download, as the machine has no network for it."""
    return shutil.which("chromium") or "/usr/bin/chromium"


class Service:
    """A local server process bound to one port, kept across ``restart()`` because restart tests
    check that clients reconnect to the *same* address."""

    name = "service"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.output_path = self.workdir / f"{self.name}.out"
        self._output: IO[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return port_open(self.port, self.host)

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        self._output = open(self.output_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = start_process(self.command(), self._output, cwd=self.workdir)
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"exited with {proc.returncode}")
            return self.ready()

        try:
            wait_until(up, timeout, f"{self.name} on {self.host}:{self.port}")
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"{self.name} failed to start on port {self.port}:\n{self.log_text()}") from exc

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None:
            stop_group(self.proc, timeout)
            self.proc = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return tail(self.output_path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} running={self.running}>"


class Mosquitto(Service):
    """A private MQTT broker. With ``persistent`` (the default) its on-disk state in its own
    directory lets persistent sessions and queued QoS 1 messages survive ``restart()``."""

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        extra: Sequence[str] = (),
        *,
        persistent: bool = True,
        max_queued: int = 100_000,
    ) -> None:
        super().__init__(workdir, port)
        self.extra = list(extra)  # lines appended to the config (later settings win)
        self.persistent = persistent
        self.max_queued = max_queued
        self.conf_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def write_config(self) -> None:
        # `user`: mosquitto started as root drops to the `mosquitto` user, which cannot write
        # into 0700 tmp dirs; naming the current user keeps it as is (ignored for non-root).
        # max_queued_messages: the default (1000) would silently drop messages for a
        # disconnected persistent client in backlog tests and benchmarks.
        # max_inflight_messages 0: no cap, so QoS 1 bursts are not throttled.
        persistence = ["persistence true", f"persistence_location {self.workdir}/"] if self.persistent else ["persistence false"]
        self.conf_path.write_text(
            "\n".join(
                [
                    f"listener {self.port} {self.host}",
                    "allow_anonymous true",
                    f"user {pwd.getpwuid(os.getuid()).pw_name}",
                    *persistence,
                    f"max_queued_messages {self.max_queued}",
                    "max_inflight_messages 0",
                    f"log_dest file {self.log_path}",
                    *self.extra,
                    "",
                ]
            )
        )

    def command(self) -> list[str]:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.write_config()
        return [binary, "-c", str(self.conf_path)]

    def log_text(self) -> str:
        return tail(self.output_path) + "\n" + tail(self.log_path)


class RedisServer(Service):
    """A private Redis. Without ``persistent`` it keeps nothing on disk, so each start is empty
    and fast; with it, an append-only file lets restart tests check what survives."""

    name = "redis"

    def __init__(self, workdir: Path, port: int | None = None, *, persistent: bool = False, extra: Sequence[str] = ()) -> None:
        super().__init__(workdir, port)
        self.persistent = persistent
        self.extra = list(extra)  # more command-line options (cluster mode, replicaof)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        cmd = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--save",
            "",
            "--dir",
            str(self.workdir),
            "--daemonize",
            "no",
        ]
        if self.persistent:
            return [*cmd, "--appendonly", "yes", "--appendfsync", "everysec", *self.extra]
        return [*cmd, "--appendonly", "no", *self.extra]

    def ready(self) -> bool:
        # a persistent restart needs the data, not just the port
        return redis_answers(self.port, self.host)


# --- the app itself, in this process ----------------------------------------------------------
#: True once every panel on the page shows something: a body with text, a drawn graph, and
#: (except the clock, which has no feed) the time of its newest data.
WALL_READY_JS = """
() => {
  const panels = Array.from(document.querySelectorAll('[data-panel]'));
  if (!panels.length) return false;
  return panels.every(p => {
    const body = p.querySelector('.cw-panel-body');
    if (!body || !body.innerText.trim()) return false;
    if (p.querySelector('.dash-graph') && !p.querySelector('.main-svg')) return false;
    return p.getAttribute('data-panel') === 'clock' || p.getAttribute('data-updated-at') !== '';
  });
}
"""


@contextmanager
def running_app(config: Config, store: Any, setup: Callable[[Any], None] | None = None) -> Iterator[str]:
    """The whole app (pages, Dash, API, guard) on a free loopback port in a thread; yields its
    URL. ``setup(app)`` may add routes first (a test's own endpoint behind a role)."""
    import uvicorn

    from dashboard.app import create_app
    from dashboard.runtime import UVICORN_OPTIONS

    app = create_app(config, store)
    if setup is not None:
        setup(app)
    port = free_port()
    options = {**UVICORN_OPTIONS, "lifespan": "on"}  # the product's own limits and parser
    server = uvicorn.Server(uvicorn.Config(app.server, host=HOST, port=port, **options))
    thread = threading.Thread(target=server.run, name="citywall-web", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the web server stopped while starting")
        return bool(server.started)

    wait_until(started, 20, "the web server to start")
    base = f"http://{HOST}:{port}"
    wait_until(lambda: _healthy(base), 20, f"{base}/healthz to answer 200")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _healthy(base: str) -> bool:
    """``/healthz`` answers 200. A worker whose first look at the store failed (a probe timed
    out on a loaded machine) rightly answers 503 until its next look, a second later; the
    answer's body names what failed, and ends up in ``wait_until``'s error if it never clears."""
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{exc.code}: {exc.read()[:300].decode(errors='replace')}") from exc
    return True


@contextmanager
def serve(config: Config, store: Any) -> Iterator[str]:
    """``running_app``, warmed up: Dash's FastAPI backend finishes its own set-up (asset list,
    inline scripts) on the first ``/_dash-*`` request, so one is made before any browser sees a page."""
    with running_app(config, store) as base:
        with urllib.request.urlopen(f"{base}/_dash-layout", timeout=10) as response:
            response.read()
        yield base
