"""Real services for integration tests, each on its own free loopback port.

The dashboard's failure modes (broker restarts, lost Redis state, a wall
that renders nothing) only show up against the real programs, so these
fixtures run Debian's mosquitto, redis-server and chromium rather than
mocks. Nothing listens on a default port: CI machines may already run a
system redis or mosquitto there, and tests must not share state with them.

Loaded as a pytest plugin from ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
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

    from dashboard.store.base import StateStore

from dashboard.local_services import (  # noqa: F401 - re-exported for the tests
    CHROMIUM_ARGS,
    HOST,
    Mosquitto,
    RedisServer,
    Service,
    chromium_binary,
    free_port,
    redis_binary,
    start_process,
    stop_group,
    tail,
    wait_for_port,
    wait_until,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

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


def redis_cli(port: int, *args: str, timeout: float = 60.0, auth: tuple[str, str] | None = None) -> str:
    """``redis-cli`` against a local port (as an ACL user when ``auth`` is given); its output,
    or a failure naming what it said."""
    cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
    login = ["--user", auth[0], "--pass", auth[1], "--no-auth-warning"] if auth else []
    done = subprocess.run(
        [cli, "-h", HOST, "-p", str(port), *login, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"redis-cli {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


class RedisCluster:
    """A Redis Cluster of ``masters`` masters (and ``replicas`` replicas per master) on free
    loopback ports, created with ``redis-cli --cluster create`` as an integrator would."""

    def __init__(self, workdir: Path, masters: int = 3, replicas: int = 0, acl: tuple[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.replicas = replicas
        self.acl = acl
        # the node timeout of deploy/redis/redis.conf: moving a slot copies its keys with MIGRATE,
        # which blocks both masters while a large key (a city's incidents) is copied; on a busy
        # machine that took over 2 s, the peers marked the master failed and the cluster went down
        cluster_opts = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"]
        if acl:  # an ACL user with every right; the default user may only answer PING (readiness)
            cluster_opts += [
                "--user",
                acl[0],
                "on",
                f">{acl[1]}",
                "~*",
                "&*",
                "+@all",
                "--user",
                "default",
                "on",
                "nopass",
                "-@all",
                "+ping",
            ]
        # the bus port is chosen free too: the default (port + 10000) may be taken, or past 65535
        self.nodes = [
            RedisServer(self.workdir / f"node{i}", extra=[*cluster_opts, "--cluster-port", str(free_port())])
            for i in range(masters * (1 + replicas))
        ]

    @property
    def url(self) -> str:
        login = f"{self.acl[0]}:{self.acl[1]}@" if self.acl else ""
        return f"redis+cluster://{login}" + ",".join(f"{n.host}:{n.port}" for n in self.nodes)

    def _cli(self, port: int, *args: str) -> str:
        return redis_cli(port, *args, auth=self.acl)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        self._cli(
            self.nodes[0].port,
            "--cluster",
            "create",
            *(f"{n.host}:{n.port}" for n in self.nodes),
            "--cluster-replicas",
            str(self.replicas),
            "--cluster-yes",
        )
        for node in self.nodes:
            wait_until(
                lambda n=node: "cluster_state:ok" in self._cli(n.port, "cluster", "info"), 30, f"cluster state ok on {node.port}"
            )

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def masters(self) -> dict[str, int]:
        """Node id -> port of every master, as the cluster itself reports."""
        out: dict[str, int] = {}
        for line in self._cli(self.nodes[0].port, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2]:
                out[fields[0]] = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        return out

    def node_for_slot(self, slot: int) -> tuple[str, int]:
        """(node id, port) of the master serving ``slot``."""
        for line in self._cli(self.nodes[0].port, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" not in fields[2]:
                continue
            for part in fields[8:]:
                if part.startswith("["):
                    continue
                lo, _, hi = part.partition("-")
                if int(lo) <= slot <= int(hi or lo):
                    return fields[0], int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise LookupError(f"no master serves slot {slot}")

    def migrate_slot(self, slot: int, to_port: int, batch: int = 100) -> int:
        """Move one slot, keys and all, to the master on ``to_port`` while clients keep writing:
        the documented sequence (IMPORTING, MIGRATING, MIGRATE in batches, SETSLOT NODE on
        every master). Returns how many keys moved."""
        source_id, source_port = self.node_for_slot(slot)
        target_id = self._cli(to_port, "cluster", "myid").strip()
        if target_id == source_id:
            return 0
        self._cli(to_port, "cluster", "setslot", str(slot), "importing", source_id)
        self._cli(source_port, "cluster", "setslot", str(slot), "migrating", target_id)
        moved = 0
        while True:
            keys = self._cli(source_port, "cluster", "getkeysinslot", str(slot), str(batch)).split()
            if not keys:
                break
            login = ["auth2", *self.acl] if self.acl else []
            self._cli(source_port, "migrate", HOST, str(to_port), "", "0", "5000", *login, "keys", *keys)
            moved += len(keys)
        for port in (to_port, source_port, *self.masters().values()):
            self._cli(port, "cluster", "setslot", str(slot), "node", target_id)
        return moved


class RedisSentinelSet:
    """One master, one replica and one Sentinel watching them (quorum 1), on loopback ports.

    ``down-after-milliseconds`` is short so a killed master is failed over within seconds."""

    SERVICE = "citywall"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.master = RedisServer(self.workdir / "master", persistent=True)
        self.replica = RedisServer(self.workdir / "replica", persistent=True, extra=["--replicaof", HOST, str(self.master.port)])
        self.sentinel = _Sentinel(self.workdir / "sentinel", self.master.port, self.SERVICE)

    @property
    def url(self) -> str:
        return f"redis+sentinel://{HOST}:{self.sentinel.port}/{self.SERVICE}/0"

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        wait_until(lambda: "master_link_status:up" in redis_cli(self.replica.port, "info", "replication"), 30, "replica in sync")
        self.sentinel.start()
        wait_until(lambda: "slaves=1" in redis_cli(self.sentinel.port, "info", "sentinel"), 30, "sentinel sees the replica")

    def master_port(self) -> int:
        """The port of the master as Sentinel names it now."""
        return int(redis_cli(self.sentinel.port, "sentinel", "get-master-addr-by-name", self.SERVICE).split()[1])

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.master):
            server.stop()


class _Sentinel(Service):
    name = "sentinel"

    def __init__(self, workdir: Path, master_port: int, service: str) -> None:
        super().__init__(workdir)
        self.master_port = master_port
        self.service = service

    def command(self) -> list[str]:
        conf = self.workdir / "sentinel.conf"  # Sentinel rewrites its own file: it must be writable
        conf.write_text(
            "\n".join(
                [
                    f"port {self.port}",
                    f"bind {self.host}",
                    f"dir {self.workdir}",
                    "daemonize no",
                    f"sentinel monitor {self.service} {HOST} {self.master_port} 1",
                    f"sentinel down-after-milliseconds {self.service} 1000",
                    f"sentinel failover-timeout {self.service} 10000",
                    f"sentinel parallel-syncs {self.service} 1",
                    "",
                ]
            )
        )
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        return [binary, str(conf), "--sentinel"]


class Nginx(Service):
    """Debian's nginx as the reverse proxy in front of web workers, without root: prefix,
    pid file, logs and temp paths all in its own directory, in the foreground.

    ``site`` is a server-level config file (the one in ``deploy/`` with its ports templated);
    it is included into a minimal main config written here."""

    name = "nginx"

    def __init__(self, workdir: Path, site: str, port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.site = site

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        d = self.workdir
        (d / "site.conf").write_text(self.site)
        temps = "\n".join(f"  {kind}_temp_path {d}/{kind}_temp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(f"""# written by tests/support/services.py
user {pwd.getpwuid(os.getuid()).pw_name};
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {d}/access.log;
{temps}
  include {d}/site.conf;
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return [nginx, "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"]

    def log_text(self) -> str:
        return tail(self.output_path) + "\n" + tail(self.workdir / "error.log")


@pytest.fixture
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """Three masters, no replicas: the smallest real cluster."""
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisSentinelSet]:
    sentinels = RedisSentinelSet(tmp_path_factory.mktemp("redis-sentinel"))
    try:
        sentinels.start()
        yield sentinels
    finally:
        sentinels.stop()


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


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def each_store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    """The same test on each backend: the memory store, and a Redis store on the shared,
    freshly emptied server (``redis_url``)."""
    from dashboard.store.memory import MemoryStore
    from dashboard.store.redis_store import RedisStore

    made: StateStore = (
        MemoryStore() if request.param == "memory" else RedisStore(request.getfixturevalue("redis_url"), prefix="citywall")
    )
    try:
        yield made
    finally:
        made.close()


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed browser test reports what its pages showed, before its fixtures close them:
    a CI log keeps only the error, and "waited 60 s for X" does not say what was there."""
    outcome = yield
    report = outcome.get_result()
    b = getattr(item, "funcargs", {}).get("browser")
    if call.when != "call" or not report.failed or b is None:
        return
    shown = []
    for ctx in b.contexts:
        for p in ctx.pages:
            try:
                text = p.inner_text("body", timeout=2_000)
            except Exception as exc:  # a crashed or hung page says so instead
                text = f"(unreadable: {type(exc).__name__})"
            shown.append(f"{p.url}\n{text[:1_500]}")
    report.sections.append(("what the pages showed", "\n\n".join(shown) or "(no page open)"))


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
            with contextlib.suppress(Exception):  # already gone with a crashed browser
                ctx.close()


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
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open while the process runs, closed in stop()
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


@pytest.fixture
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(ours, theirs): two connected sockets, ours non-blocking as a client's is, for a client
    that reads one end while the test writes the other as its broker."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()
