"""No secret is ever printed, and a hostile config file gets one line, not a traceback.

Passwords live in broker and Redis URLs and in ``feeds.mqtt.password``. They must not appear
in what the commands print, in their log lines, or in a config error: the tests put a marker
password everywhere and search every byte of output for it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard.config import DEFAULT_CONFIG, ConfigError, load_config
from dashboard.redact import RedactingFormatter, redact
from tests.support.configs import write_config
from tests.support.services import CITYWALL_CMD, CitywallProcess, Mosquitto, RedisServer, free_port

SECRET = "Hunter2SecretXyz"
URLS = [
    f"redis://:{SECRET}@127.0.0.1:6379/0",
    f"redis://default:{SECRET}@127.0.0.1:6379/0",
    f"rediss://{SECRET}@redis.example:6380",
    f"unix://:{SECRET}@/run/redis.sock?db=1",
    f"mqtt://user:{SECRET}@broker.local:1883",
    f"mqtts://user:{SECRET}%40x@broker.local",
    f"mqtt://user:{SECRET}@with@at@broker.local/path",
]


@pytest.mark.parametrize("url", URLS)
def test_redact_hides_the_password_of_every_kind_of_url(url: str) -> None:
    shown = redact(f"connecting to {url} now")
    assert SECRET not in shown
    assert "***@" in shown and shown.startswith("connecting to ") and shown.endswith(" now")


def test_redact_keeps_what_is_not_a_secret() -> None:
    assert redact("mqtt://user@broker:1883") == "mqtt://user@broker:1883"
    assert redact("mail admin@example.org") == "mail admin@example.org"
    assert redact("mqtt://user:pw@h") == "mqtt://user:***@h"


def test_log_lines_and_tracebacks_are_redacted() -> None:
    record = logging.LogRecord("citywall", logging.ERROR, __file__, 1, "store %s failed", (URLS[0],), None)
    try:
        raise ConnectionError(f"cannot reach {URLS[4]}")
    except ConnectionError:
        record.exc_info = sys.exc_info()
    text = RedactingFormatter("%(message)s").format(record)
    assert SECRET not in text
    assert "redis://:***@127.0.0.1" in text and "mqtt://user:***@broker.local" in text


def test_a_record_stays_one_entry_of_the_log_and_a_bounded_one() -> None:
    """A path quoted in an exception's message wrote lines that read as records of their own,
    and a 260 KB one 260 KB of log."""
    forged = "/x\r\n2026-01-01 00:00:00,000 CRITICAL citywall.auth: injected"
    record = logging.LogRecord("citywall.callbacks", logging.ERROR, __file__, 1, "a callback failed", (), None)
    try:
        raise ValueError(forged + "\n" + "y" * 100_000)
    except ValueError:
        record.exc_info = sys.exc_info()
    lines = RedactingFormatter("%(levelname)s %(name)s: %(message)s").format(record).split("\n")
    assert lines[0] == "ERROR citywall.callbacks: a callback failed"
    assert [line[:4] for line in lines[1:]] == ["  | "] * (len(lines) - 1)
    assert "  | 2026-01-01 00:00:00,000 CRITICAL citywall.auth: injected" in lines
    assert lines[-1].endswith(" more characters cut]")
    assert sum(len(line) for line in lines) < 17_000
    # other line breaks a log reader honours, a terminal's escapes, and many short lines
    record = logging.LogRecord("citywall", logging.ERROR, __file__, 1, "x%s", ("\u2028a\x85b\x0bc\x1b[2Kd\te",), None)
    assert RedactingFormatter("%(message)s").format(record).split("\n") == ["x", "  | a", "  | b", "  | c\\x1b[2Kd\te"]
    record = logging.LogRecord("citywall", logging.ERROR, __file__, 1, "%s", ("\n" * 100_000,), None)
    assert len(RedactingFormatter("%(message)s").format(record)) < 16_500


# ---------------------------------------------------------------------------------------
# config errors: the key and the reason, never the value


write_tree = write_config


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path)) and len(message) <= 300
    return message


def test_a_type_error_names_the_kind_not_the_value(tmp_path: Path) -> None:
    message = config_error(write_tree(tmp_path, lambda t: t["feeds"]["mqtt"].update(password=[SECRET])))
    assert SECRET not in message
    assert "feeds.mqtt.password: Input should be a valid string (got a list)" in message


BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join('*' + chr(97 + i) for _ in range(9))}]" for i in range(8)]
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"city:\n  name: Kota Pekanbaru \xe9\xff\n", "not UTF-8 text (invalid byte at offset", id="not-utf8"),
        pytest.param(("x: " + "[" * 3_000 + "]" * 3_000 + "\n").encode(), "line 1: nested deeper than 32 levels", id="deep"),
        pytest.param(
            b"city:\n  name: A\n  slug: a\ncity:\n  name: B\n  slug: b\n",
            "line 4: key 'city' given twice",
            id="duplicate-section",
        ),
        pytest.param(b"city:\n  name: A\n  name: B\n  slug: a\n", "line 3: key 'name' given twice", id="duplicate-key"),
        pytest.param(
            f"{BILLION_LAUGHS}\nfeeds:\n  mqtt:\n    password: *i\n".encode(), "more than 64 aliases", id="billion-laughs"
        ),
        pytest.param(
            b"a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
            b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
            b"f: [*e, *e, *e, *e, *e, *e, *e, *e]\n",
            "aliases expand to more than 100,000 values",
            id="alias-expansion",
        ),
        pytest.param(b"# padding\n" * 120_000, "file is larger than 1024 KB", id="too-big"),
    ],
)
def test_each_bad_config_file_gets_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    assert expected in config_error(path)


def test_billion_laughs_as_a_password_costs_nothing(tmp_path: Path) -> None:
    """The CLI answers with one short line (it printed 312 MB before)."""
    path = tmp_path / "config.yaml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8") + "\n" + BILLION_LAUGHS + "\n", encoding="utf-8")
    done = subprocess.run([*CITYWALL_CMD, "check-config", str(path)], capture_output=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().startswith(f"citywall: config error: {path}: line ")
    assert len(done.stderr) < 400


ENV_SECRETS = [
    {"CITYWALL_STORE__URL": f"mysql://ops:{SECRET}@db.local/0"},
    {"CITYWALL_STORE_URL": f"redis+shard://ops:{SECRET}@h:7000"},
    {"CITYWALL_FEEDS__MQTT__URL": f"http://user:{SECRET}@broker.local"},
    {"CITYWALL_FEEDS__MQTT__KEEPALIVE_S": SECRET},
    {"CITYWALL_FEEDS__MQTT": f'{{"password": ["{SECRET}"]}}'},
    {"CITYWALL_FEEDS__MQTT": f'{{"password": "{SECRET}", "pasword": "{SECRET}"}}'},
    {"CITYWALL_SERVER__ALLOWED_ORIGINS": f"[{SECRET}"},
    {"CITYWALL_FEEDS__MQTT__TLS": SECRET},
]


@pytest.mark.parametrize(
    "environ",
    ENV_SECRETS,
    ids=["store-url", "short-name", "mqtt-url", "number", "type-in-json", "unknown-key-in-json", "not-json", "section-not-json"],
)
def test_a_bad_environment_value_is_named_never_shown(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(DEFAULT_CONFIG, environ=environ)
    message = str(caught.value)
    assert SECRET not in message
    (name,) = environ
    assert message.startswith(f"{DEFAULT_CONFIG}: ") and f"(from {name}): " in message, message


def test_check_config_shows_no_secret_from_the_environment() -> None:
    env = {**os.environ, "CITYWALL_FEEDS__MQTT__URL": f"http://user:{SECRET}@broker.local"}
    done = subprocess.run([*CITYWALL_CMD, "check-config", str(DEFAULT_CONFIG)], capture_output=True, timeout=60, env=env)
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (
        f"citywall: config error: {DEFAULT_CONFIG}: feeds.mqtt.url "
        "(from CITYWALL_FEEDS__MQTT__URL): MQTT url must start with mqtt:// or mqtts://"
    )
    assert SECRET.encode() not in done.stdout + done.stderr


#: Broker URLs the MQTT client cannot take, each with the start of the password where the
#: standard library looks for a port, or where the masking stopped.
BROKEN_BROKER_URLS = {
    "slash": (f"mqtt://bob:Hunter/{SECRET}@127.0.0.1:1883", "has a port that is not a number"),
    "hash": (f"mqtt://bob:Hunter#{SECRET}@127.0.0.1:1883", "has a port that is not a number"),
    "space": (f"mqtt://bob:Hunter {SECRET}@127.0.0.1:1883", "has a space in it"),
    "port": ("mqtt://127.0.0.1:99999", "has a port that is not a number"),
    # the standard library's own error quoted the host part, password and all
    "full-width": (f"mqtt://bob:Hunter\uff03{SECRET}@127.0.0.1:1883", "cannot be read"),
}


@pytest.mark.parametrize(("url", "reason"), BROKEN_BROKER_URLS.values(), ids=BROKEN_BROKER_URLS)
def test_a_broker_url_the_client_cannot_take_is_named_without_its_password(url: str, reason: str) -> None:
    """A / or # in a password made the client fail at start-up with a traceback that quoted the
    password's start as the port, and check-config said ok; a space got past the masking."""
    with pytest.raises(ConfigError) as caught:
        load_config(DEFAULT_CONFIG, environ={"CITYWALL_FEEDS__MQTT__URL": url})
    message = str(caught.value)
    assert "feeds.mqtt.url (from CITYWALL_FEEDS__MQTT__URL): MQTT url " + reason in message, message
    assert "Hunter" not in message and SECRET not in message
    for argv in (["demo", "--port", "1", "--mqtt-url", url], ["simulate", "--url", url, "--duration", "1"]):
        done = subprocess.run([*CITYWALL_CMD, *argv], capture_output=True, timeout=60)
        assert done.returncode == 2, argv
        assert reason in done.stderr.decode(), (argv, done.stderr)
        assert b"Hunter" not in done.stdout + done.stderr, argv


@pytest.mark.parametrize("scheme", ["mqtt", "redis"])
def test_simulate_to_nothing_listening_is_one_line(scheme: str) -> None:
    """It ended in a 13-line traceback."""
    url = f"{scheme}://bob:{SECRET}@127.0.0.1:{free_port()}" + ("/0" if scheme == "redis" else "")
    argv = ["simulate", "--to", scheme, "--url", url, "--duration", "1"]
    done = subprocess.run([*CITYWALL_CMD, *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 5, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"citywall simulate: {redact(url)}: "), lines
    assert lines[0].endswith("; is it running, and is the address right?"), lines
    assert SECRET not in done.stdout + done.stderr


# ---------------------------------------------------------------------------------------
# what the commands print


def output_until(proc: CitywallProcess, marker: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while marker not in proc.log_text():
        assert proc.alive, proc.log_text()
        assert time.monotonic() < deadline, f"no {marker!r} in:\n{proc.log_text()}"
        time.sleep(0.1)
    return proc.log_text()


@pytest.mark.integration
def test_ingest_never_prints_the_redis_password(
    tmp_path: Path, redis_server: RedisServer, citywall_proc: Callable[..., CitywallProcess]
) -> None:
    url = redis_server.url.replace("redis://", f"redis://:{SECRET}@")
    config = write_tree(tmp_path, lambda t: t.update(store={"url": url}) or t["feeds"].update(redis={"url": url}))
    proc = citywall_proc([*CITYWALL_CMD, "-v", "ingest", "--config", str(config)])
    text = output_until(proc, "citywall ingest:")
    proc.terminate()
    text = proc.log_text()
    assert "redis://:***@127.0.0.1" in text
    assert SECRET not in text


@pytest.mark.integration
def test_demo_never_prints_the_mqtt_password(
    tmp_path: Path, mosquitto: Mosquitto, citywall_proc: Callable[..., CitywallProcess]
) -> None:
    url = f"mqtt://user:{SECRET}@{mosquitto.host}:{mosquitto.port}"
    proc = citywall_proc([*CITYWALL_CMD, "-v", "demo", "--mqtt-url", url, "--port", str(free_port()), "--rate", "0"])
    output_until(proc, "  mqtt ")
    proc.terminate()
    text = proc.log_text()
    assert f"mqtt://user:***@{mosquitto.host}:{mosquitto.port}" in text
    assert SECRET not in text


def test_an_uncaught_exception_is_printed_redacted() -> None:
    code = (
        "import threading\nfrom dashboard.redact import install\ninstall(30, '%(message)s')\n"
        f"def boom(): raise ConnectionError('cannot reach {URLS[1]}')\n"
        "t = threading.Thread(target=boom); t.start(); t.join()\nboom()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("redis://default:***@127.0.0.1") == 2
    assert SECRET not in done.stderr


def test_the_web_server_s_own_records_are_redacted_too() -> None:
    """uvicorn wrote its records (a request's traceback among them) through handlers of its
    own, past the redaction and as lines of their own."""
    code = (
        "import logging, uvicorn\nfrom dashboard.redact import install\nfrom dashboard.runtime import UVICORN_OPTIONS\n"
        "install(30, '%(levelname)s %(name)s: %(message)s')\n"
        "uvicorn.Config(lambda scope, receive, send: None, **UVICORN_OPTIONS).load()\n"
        f"logging.getLogger('uvicorn.error').error('Exception in ASGI application: {URLS[1]}\\nCRITICAL forged')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"ERROR uvicorn.error: Exception in ASGI application: {redact(URLS[1])}",
        "  | CRITICAL forged",
    ]


STORE_COMMANDS = [["serve"], ["serve", "--workers", "2"], ["demo", "--rate", "0"], ["users", "list"], ["ingest"]]


def at_start(command: list[str], store_url: str) -> subprocess.CompletedProcess[str]:
    """``citywall <command>`` on ``store_url``, with a port to listen on and a feed to read."""
    if command[0] in ("serve", "demo"):
        command = [*command, "--port", str(free_port())]
    env = {
        **os.environ,
        "CITYWALL_STORE__URL": store_url,
        "CITYWALL_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}",  # ingest's feed: never reached
    }
    return subprocess.run([*CITYWALL_CMD, *command], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_a_store_that_does_not_answer_at_start_is_one_line(command: list[str]) -> None:
    """A Redis not there yet ended ``serve`` and ``demo`` with seven tracebacks; ``ingest`` ran
    on, joined the feed's shared group, and held back messages it could not store."""
    port = free_port()  # nothing listens on it
    done = at_start(command, f"redis://:{SECRET}@127.0.0.1:{port}/0")
    assert (done.returncode, done.stderr) == (
        4,
        f"citywall: store.url: no answer from redis://:***@127.0.0.1:{port}/0 (ConnectionError); "
        "is it running, and is the address right?\n",
    )
    assert SECRET not in done.stdout


@pytest.mark.parametrize("command", STORE_COMMANDS)
def test_a_store_that_refuses_the_password_says_so_at_start(command: list[str], redis_session: RedisServer) -> None:
    """Redis answered and refused the login, and the start said "no answer ... is it running?"."""
    done = at_start(command, f"redis://ghost:{SECRET}@{redis_session.host}:{redis_session.port}/0")
    assert (done.returncode, done.stderr) == (
        4,
        f"citywall: store.url: redis://ghost:***@{redis_session.host}:{redis_session.port}/0 refused the user or "
        "password (AuthenticationError); are they right in store.url (or CITYWALL_STORE__URL)?\n",
    )
    assert SECRET not in done.stdout
