"""Users and tokens from the command line, the demo's way in, and what survives a restart.

These run the real ``citywall`` command as a process, in the default closed mode, against a
real Redis where the state is shared.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from dashboard.store.memory import MemoryStore
from tests.support.auth import closed_config, login, running_app
from tests.support.configs import write_config
from tests.support.helpers import get_json, wait_until
from tests.support.services import ANONYMOUS_READ_ENV, CITYWALL_CMD, REPO_ROOT, CitywallProcess, RedisServer, free_port

CLOSED = {ANONYMOUS_READ_ENV: "false"}


def citywall(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CITYWALL_CMD, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**os.environ, **CLOSED, **env},
    )


def start_serve(citywall_proc: Callable[..., CitywallProcess], env: dict[str, str]) -> tuple[CitywallProcess, str]:
    port = free_port()
    proc = citywall_proc(
        [*CITYWALL_CMD, "serve", "--port", str(port)], env={**CLOSED, "CITYWALL_MQTT_URL": "", "CITYWALL_REDIS_URL": "", **env}
    )
    base = f"http://127.0.0.1:{port}"
    proc.wait_http(f"{base}/healthz", timeout=60)
    return proc, base


def wait_for_status(fetch: Callable[[], int], want: int, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        status = fetch()
        if status == want or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_demo_prints_a_login_and_kiosk_urls_that_work(citywall_proc: Callable[..., CitywallProcess]) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = citywall_proc([*CITYWALL_CMD, "demo", "--port", str(port), "--rate", "0"], env=CLOSED)
    proc.wait_http(f"{base}/healthz", timeout=90)
    log = proc.log_text()
    password = re.search(r"login +\S+/login +user operator, password (\S+) ", log)
    supervisor = re.search(r"\n +user supervisor, password (\S+) \(supervisor;", log)
    assert supervisor and re.search(rf"console +{re.escape(base)}/console +shift report {re.escape(base)}/report", log), log
    wall = re.search(rf"wall +({re.escape(base)}/wall\?token=\S+)", log)
    tablet = re.search(rf"tablet +({re.escape(base)}/tablet\?token=\S+)", log)
    assert password and wall and tablet, log
    assert log.count(password.group(1)) == 1, "the one-time password is printed once"

    assert requests.get(f"{base}/wall", allow_redirects=False, timeout=30).status_code == 303
    assert requests.get(wall.group(1), timeout=30).status_code == 200
    wall_token = wall.group(1).split("token=")[1]
    assert requests.get(f"{base}/screen/17?token={wall_token}", timeout=30).status_code == 200
    assert requests.get(f"{base}/tablet?token={wall_token}", timeout=30).status_code == 403
    assert requests.get(tablet.group(1), timeout=30).status_code == 200

    s = login(base, "operator", password.group(1))
    assert s.get(f"{base}/api/v1/me", timeout=30).json() == {
        "name": "operator",
        "role": "operator",
        "via": "session",
        "scope": None,
        "screen": None,
    }
    wrong = requests.post(f"{base}/api/v1/login", json={"username": "operator", "password": "not-it-at-all"}, timeout=30)
    assert wrong.status_code == 401
    # the supervisor's login shows what only a supervisor may do
    assert s.get(f"{base}/api/v1/report?format=csv", timeout=30).status_code == 403
    boss = login(base, "supervisor", supervisor.group(1))
    assert boss.get(f"{base}/api/v1/report?format=csv", timeout=30).status_code == 200


def test_user_and_token_commands_need_a_shared_store() -> None:
    done = citywall(
        "users",
        "add",
        "ani",
        "--role",
        "operator",
        "--password-stdin",
        env={"CITYWALL_STORE_URL": "memory://"},
        stdin="a-long-password\n",
    )
    assert done.returncode == 2
    assert "store.url" in done.stderr and "memory store" in done.stderr
    assert "a-long-password" not in done.stdout + done.stderr
    done = citywall("tokens", "list", env={"CITYWALL_STORE_URL": "memory://"})
    assert done.returncode == 2


@pytest.mark.integration
def test_user_commands_say_what_is_wrong_and_never_echo_the_password(redis_url: str) -> None:
    env = {"CITYWALL_STORE_URL": redis_url}
    short = citywall("users", "add", "ani", "--role", "operator", "--password-stdin", env=env, stdin="short7!\n")
    assert short.returncode == 1
    assert "too short" in short.stderr and "short7!" not in short.stdout + short.stderr
    bad_name = citywall("users", "add", "../etc", "--role", "operator", "--password-stdin", env=env, stdin="long-enough-1\n")
    assert bad_name.returncode == 1 and "invalid user name" in bad_name.stderr
    bad_role = citywall("users", "add", "ani", "--role", "root", "--password-stdin", env=env, stdin="long-enough-1\n")
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    assert (
        citywall("users", "add", "ani", "--role", "operator", "--password-stdin", env=env, stdin="long-enough-1\n").returncode
        == 0
    )
    again = citywall("users", "add", "ani", "--role", "admin", "--password-stdin", env=env, stdin="long-enough-2\n")
    assert again.returncode == 1 and "exists" in again.stderr
    no_terminal = citywall("users", "add", "budi", "--role", "operator", env=env, stdin="")  # a script, no --password-stdin
    assert (no_terminal.returncode, no_terminal.stderr.splitlines()[-1]) == (
        1,
        "citywall users: no password given: type it at a terminal, or pass it with --password-stdin",
    ), no_terminal.stderr
    assert "Traceback" not in no_terminal.stderr
    missing = citywall("users", "remove", "nobody", env=env)
    assert missing.returncode == 1 and "no user named 'nobody'" in missing.stderr
    bad_screen = citywall("tokens", "create", "--role", "kiosk", "--screen", "99", env=env)
    assert bad_screen.returncode == 1 and "outside the wall" in bad_screen.stderr
    scoped_api = citywall("tokens", "create", "--role", "operator", "--screen", "3", env=env)
    assert scoped_api.returncode == 1 and "kiosk" in scoped_api.stderr


@pytest.mark.integration
def test_users_and_tokens_survive_a_restart_on_redis(tmp_path: Path, citywall_proc: Callable[..., CitywallProcess]) -> None:
    redis_server = RedisServer(tmp_path / "redis", persistent=True)
    redis_server.start()
    try:
        env = {"CITYWALL_STORE_URL": redis_server.url}
        assert (
            citywall(
                "users", "add", "ani", "--role", "supervisor", "--password-stdin", env=env, stdin="ani-password-1\n"
            ).returncode
            == 0
        )
        kiosk = citywall("tokens", "create", "--role", "kiosk", "--screen", "4", "--base-url", "http://wall.example", env=env)
        assert kiosk.returncode == 0, kiosk.stderr
        url = kiosk.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"http://wall\.example/screen/4\?token=[A-Za-z0-9_-]{43}", url), url
        kiosk_token = url.split("token=")[1]
        api = citywall("tokens", "create", "--role", "operator", "--name", "integration", env=env)
        api_token = api.stdout.strip().splitlines()[-1]
        listed = citywall("tokens", "list", env=env).stdout
        assert "screen-4" in listed and "integration" in listed and "screen 4" in listed
        assert kiosk_token not in listed and api_token not in listed
        users = citywall("users", "list", env=env).stdout
        assert re.search(r"^ani +supervisor ", users, re.M), users
        # nothing secret in Redis: an Argon2 hash for the password, digests for the tokens
        dump = json.dumps(_redis_dump(redis_server.url))
        assert "ani-password-1" not in dump and kiosk_token not in dump and api_token not in dump
        assert "$argon2id$" in dump

        serve, base = start_serve(citywall_proc, env)
        browser = login(base, "ani", "ani-password-1")
        screen = requests.Session()
        assert screen.get(f"{base}/screen/4?token={kiosk_token}", timeout=30).status_code == 200
        bearer = {"Authorization": f"Bearer {api_token}"}
        assert requests.get(f"{base}/api/v1/me", headers=bearer, timeout=30).json()["name"] == "integration"

        serve.terminate()
        redis_server.restart()
        serve, base2 = start_serve(citywall_proc, env)
        # the same browser session and the same kiosk cookie work against the new processes
        assert browser.get(f"{base2}/api/v1/me", timeout=30).json() == {
            "name": "ani",
            "role": "supervisor",
            "via": "session",
            "scope": None,
            "screen": None,
        }
        assert screen.get(f"{base2}/screen/4", timeout=30).status_code == 200
        assert screen.get(f"{base2}/_dash-layout", timeout=30).status_code == 200
        assert requests.get(f"{base2}/api/v1/me", headers=bearer, timeout=30).status_code == 200
        assert login(base2, "ani", "ani-password-1").get(f"{base2}/api/v1/me", timeout=30).status_code == 200

        assert "revoked screen-4" in citywall("tokens", "revoke", "screen-4", env=env).stdout
        assert wait_for_status(lambda: screen.get(f"{base2}/_dash-layout", timeout=30).status_code, 401) == 401
        assert citywall("users", "passwd", "ani", "--password-stdin", env=env, stdin="ani-password-2\n").returncode == 0
        assert wait_for_status(lambda: browser.get(f"{base2}/api/v1/me", timeout=30).status_code, 401) == 401
        assert citywall("users", "remove", "ani", env=env).returncode == 0
        refused = requests.post(f"{base2}/api/v1/login", json={"username": "ani", "password": "ani-password-2"}, timeout=30)
        assert refused.status_code == 401
    finally:
        redis_server.stop()


def _redis_dump(url: str) -> dict[str, object]:
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return {key: client.hgetall(key) for key in client.scan_iter("*") if client.type(key) == "hash"}
    finally:
        client.close()


def test_users_file_keeps_hashes_only_and_the_app_logs_in_from_it(tmp_path: Path) -> None:
    users_file = tmp_path / "users.json"
    config_file = write_config(tmp_path, lambda raw: raw.update(auth={"users_file": str(users_file)}))
    added = citywall(
        "users",
        "--config",
        str(config_file),
        "add",
        "budi",
        "--role",
        "operator",
        "--password-stdin",
        env={"CITYWALL_STORE_URL": "memory://"},
        stdin="budi-password-1\n",
    )
    assert added.returncode == 0, added.stderr
    text = users_file.read_text()
    assert "budi-password-1" not in text and "$argon2id$" in text
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    with running_app(closed_config(users_file=str(users_file)), MemoryStore()) as base:
        assert login(base, "budi", "budi-password-1").get(f"{base}/api/v1/me", timeout=30).json()["role"] == "operator"


@pytest.mark.integration
@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_taken_port_stops_start_up_before_anything_is_printed(command: str) -> None:
    """With the port taken, demo printed fresh tokens and a password for it and then failed:
    the links led to the other process, which refused them."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = citywall(command, "--host", "127.0.0.1", "--port", str(port), env={})
    assert done.returncode == 3
    assert done.stderr.strip().splitlines()[-1] == (
        f"citywall: cannot listen on 127.0.0.1:{port} (Address already in use); is another citywall there?"
    )
    assert done.stdout == ""


def test_the_demo_on_its_embedded_broker_takes_messages_with_a_shared_group_set(
    citywall_proc: Callable[..., CitywallProcess],
) -> None:
    """The embedded broker speaks MQTT 3.1.1, which has no shared subscriptions: with
    ``feeds.mqtt.shared_group`` set, the demo's feed read "connected" and took nothing."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {ANONYMOUS_READ_ENV: "true", "CITYWALL_FEEDS__MQTT__SHARED_GROUP": "grp", "CITYWALL_MQTT_URL": ""}
    proc = citywall_proc([*CITYWALL_CMD, "demo", "--port", str(port), "--rate", "50"], env=env)
    proc.wait_http(f"{base}/healthz", timeout=90)
    wait_until(
        lambda: get_json(f"{base}/api/v1/feeds")["feeds"]["mqtt"]["counts"].get("accepted", 0) > 0,
        60,
        "the demo's feed takes the simulator's messages",
        proc=proc,
    )
    assert "feeds.mqtt.shared_group is left out" in proc.log_text()
