"""Logging in from tests: known users on a store, a logged-in HTTP session, an app to log in to.

Loaded as a pytest plugin from ``tests/conftest.py``. Tests of other features use these to act
as a role through the real login API, the way a browser or a script would::

    creds = add_users(store)                         # viewer, operator, supervisor, admin
    with running_app(closed_config(), store) as base:
        s = login(base, creds["operator"].name, creds["operator"].password)
        s.post(f"{base}/api/v1/...", json={...})     # carries the cookie, X-CSRF-Token and Origin
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from dashboard.auth.principal import ROLES
from dashboard.auth.users import UserStore
from dashboard.config import Config, load_config
from dashboard.local_services import running_app  # noqa: F401 - the app in a thread, for the tests


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
    response = session.post(
        f"{base_url}/api/v1/login", json={"username": name, "password": password}, headers={"Origin": base_url}, timeout=30
    )
    if response.status_code != 200:
        raise AssertionError(f"login as {name!r} failed: {response.status_code} {response.text[:200]}")
    session.headers.update({"X-CSRF-Token": response.json()["csrf_token"], "Origin": base_url})
    return session


def closed_config(**auth: Any) -> Config:
    """The shipped config in its default, closed mode (no anonymous reading), whatever the
    environment says; ``auth`` overrides fields of the ``auth`` section."""
    config = load_config(environ={})
    return config.model_copy(update={"auth": config.auth.model_copy(update={"anonymous_read": False, **auth})})
