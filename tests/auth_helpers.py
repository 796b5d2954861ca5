"""Logging in from tests: known users on a store, a logged-in HTTP session, an app to log in to.

Loaded as a pytest plugin from ``tests/conftest.py``. Tests of other features use these to act
as a role through the real login API, the way a browser or a script would::

    creds = add_users(store)                         # viewer, operator, supervisor, admin
    with running_app(closed_config(), store) as base:
        s = login(base, creds["operator"].name, creds["operator"].password)
        s.post(f"{base}/api/v1/...", json={...})     # carries the cookie, X-CSRF-Token and Origin
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from dashboard.auth.principal import ROLES
from dashboard.auth.users import UserStore
from dashboard.config import Config, load_config
from tests.services import HOST, free_port


@dataclass(frozen=True)
class Credentials:
    name: str
    password: str
    role: str


#: One user per role, named after it. The passwords are test fixtures, not secrets.
KNOWN_USERS: dict[str, Credentials] = {role: Credentials(role, f"{role}-pass-0{i}x", role) for i, role in enumerate(ROLES)}


def add_users(store: Any, users: dict[str, Credentials] | None = None) -> dict[str, Credentials]:
    """Create the users (default: one per role) on ``store``; returns them by role."""
    users = users or KNOWN_USERS
    accounts = UserStore(store)
    for creds in users.values():
        accounts.add(creds.name, creds.role, creds.password)
    return dict(users)


@pytest.fixture
def known_users() -> Callable[[Any], dict[str, Credentials]]:
    """``known_users(store)`` adds a viewer, an operator, a supervisor and an admin to the store."""
    return add_users


def login(base_url: str, name: str, password: str) -> requests.Session:
    """A ``requests.Session`` logged in through ``POST /api/v1/login``: it holds the session
    cookie and sends ``X-CSRF-Token`` and a same-site ``Origin`` on every request, as our pages do."""
    session = requests.Session()
    response = session.post(f"{base_url}/api/v1/login", json={"username": name, "password": password},
                            headers={"Origin": base_url}, timeout=30)
    if response.status_code != 200:
        raise AssertionError(f"login as {name!r} failed: {response.status_code} {response.text[:200]}")
    session.headers.update({"X-CSRF-Token": response.json()["csrf_token"], "Origin": base_url})
    return session


def closed_config(**auth: Any) -> Config:
    """The shipped config in its default, closed mode (no anonymous reading), whatever the
    environment says; ``auth`` overrides fields of the ``auth`` section."""
    config = load_config(environ={})
    return config.model_copy(update={"auth": config.auth.model_copy(update={"anonymous_read": False, **auth})})


@contextmanager
def running_app(config: Config, store: Any, setup: Callable[[Any], None] | None = None) -> Iterator[str]:
    """The whole app (pages, Dash, API, guard) on a free loopback port in a thread; yields its
    URL. ``setup(app)`` may add routes first (a test's own endpoint behind ``writer(...)``)."""
    import uvicorn

    from dashboard.app import create_app

    app = create_app(config, store)
    if setup is not None:
        setup(app)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app.server, host=HOST, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="citywall-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    base = f"http://{HOST}:{port}"
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
        response.read()
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
