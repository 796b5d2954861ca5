"""The demo's way in: a fresh operator login and kiosk tokens, so ``citywall demo`` works with
nothing set up and still shows the product as it runs for real (closed, with logins)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from dashboard.auth.maps import NamedMaps
from dashboard.auth.tokens import TokenStore
from dashboard.auth.users import UserStore

DEMO_USER = "operator"
DEMO_ROLE = "operator"


@dataclass(frozen=True)
class DemoAccess:
    user: str
    role: str
    password: str
    wall_token: str
    tablet_token: str


def demo_access(store: NamedMaps) -> DemoAccess:
    """A new password and new tokens on every start: the previous run's ones stop working,
    so a demo left on a shared store does not keep old printed secrets alive."""
    accounts, tokens = UserStore(store), TokenStore(store)
    password = secrets.token_urlsafe(12)
    if accounts.get(DEMO_USER) is None:
        accounts.add(DEMO_USER, DEMO_ROLE, password)
    else:
        accounts.passwd(DEMO_USER, password)
    for name in ("demo-wall", "demo-tablet"):
        tokens.revoke(name)
    _, wall = tokens.create("kiosk", scope="wall", name="demo-wall")
    _, tablet = tokens.create("kiosk", scope="tablet", name="demo-tablet")
    return DemoAccess(DEMO_USER, DEMO_ROLE, password, wall, tablet)
