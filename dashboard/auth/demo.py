"""The demo's way in: fresh operator and supervisor logins and kiosk tokens, so ``citywall demo`` works with
nothing set up and still shows the product as it runs for real (closed, with logins)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from dashboard.auth.maps import NamedMaps
from dashboard.auth.tokens import TokenStore
from dashboard.auth.users import UserStore

#: The demo's logins, by name and role: an operator for the console, and a supervisor for what
#: only a supervisor does (presets, broadcasts, the shift report), which the demo could not
#: show while it had an operator alone and no way to add a user to its memory store.
DEMO_USERS = (("operator", "operator"), ("supervisor", "supervisor"))


@dataclass(frozen=True)
class DemoLogin:
    user: str
    role: str
    password: str


@dataclass(frozen=True)
class DemoAccess:
    logins: tuple[DemoLogin, ...]
    wall_token: str
    tablet_token: str


def demo_access(store: NamedMaps) -> DemoAccess:
    """New passwords and new tokens on every start: the previous run's ones stop working,
    so a demo left on a shared store does not keep old printed secrets alive."""
    accounts, tokens = UserStore(store), TokenStore(store)
    logins = []
    for user, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        if accounts.get(user) is None:
            accounts.add(user, role, password)
        else:
            accounts.passwd(user, password)
        logins.append(DemoLogin(user, role, password))
    for name in ("demo-wall", "demo-tablet"):
        tokens.revoke(name)
    _, wall = tokens.create("kiosk", scope="wall", name="demo-wall")
    _, tablet = tokens.create("kiosk", scope="tablet", name="demo-tablet")
    return DemoAccess(tuple(logins), wall, tablet)
