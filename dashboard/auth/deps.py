"""FastAPI dependencies and the Dash-side accessor: how routes and callbacks ask "who is this?".

The guard middleware has already resolved the request; these read its answer and apply the
route's own rule (a role, CSRF for sessions). They also work where the guard did not run
(an app without it, a route added later), by resolving again from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request

from dashboard.auth.csrf import HEADER as CSRF_HEADER
from dashboard.auth.csrf import origin_allowed, token_matches
from dashboard.auth.guard import CURRENT, kiosk_may_read, parse_cookies, query_token
from dashboard.auth.principal import ROLES, Principal
from dashboard.auth.service import AuthService, Resolved

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def service_of(request: Request) -> AuthService:
    auth = getattr(request.app.state, "citywall_auth", None)
    if auth is None:
        raise HTTPException(500, "identity is not set up on this server")
    return auth


def _resolved(request: Request) -> Resolved:
    state = request.scope.get("state") or {}
    if "principal" in state:
        return Resolved(state["principal"], state.get("session"))
    headers = {k.lower(): v for k, v in request.headers.items()}
    return service_of(request).resolve(headers, parse_cookies(headers), query_token(request.scope))


def reader(role: str | None = None) -> Callable[..., Principal]:
    """401 when nobody may read; otherwise the identity (anonymous when reading is open).

    With a ``role``, a read only that role may make (the shift report, the audit log): 403
    for a lower role, a kiosk or anonymous, but no CSRF check. It is a GET that a page's
    plain download link makes, which cannot send ``X-CSRF-Token``; a foreign site that
    makes the browser follow such a link cannot read what comes back."""
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")

    def read(request: Request) -> Principal:
        who = _resolved(request).principal
        if who is None:
            raise HTTPException(401, "login or token required", headers=_UNAUTHORIZED)
        if role is not None:
            _check_role(who, role)
        return who

    return read


def _check_role(who: Principal, role: str) -> None:
    if who.via == "anonymous":
        raise HTTPException(403, "reading is open to everyone; this needs a login or token")
    if not who.can(role):
        raise HTTPException(403, f"needs the {role} role")


def writer(role: str) -> Callable[..., Principal]:
    """401 without an identity; 403 for a lower role, a kiosk or anonymous; for a session,
    403 unless ``X-CSRF-Token`` matches and the Origin (when sent) is ours."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")

    def write(request: Request) -> Principal:
        resolved = _resolved(request)
        who = resolved.principal
        if who is None:
            raise HTTPException(401, "login or token required", headers=_UNAUTHORIZED)
        _check_role(who, role)
        if resolved.session is not None:
            headers = {k.lower(): v for k, v in request.headers.items()}
            if not origin_allowed(headers, service_of(request).allowed_origins):
                raise HTTPException(403, "request from a foreign origin")
            if not token_matches(headers.get(CSRF_HEADER), resolved.session.csrf):
                raise HTTPException(403, "missing or wrong CSRF token")
        return who

    return write


def principal_of(request: Any = None) -> Principal | None:
    """The identity of a request (a Starlette request, or anything with a ``scope``); without
    one, of the request being served, which is what a Dash callback wants."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and isinstance(scope.get("state"), dict) and "principal" in scope["state"]:
        return scope["state"]["principal"]
    return CURRENT.get()


def current_principal() -> Principal | None:
    """For Dash callbacks (HTTP or websocket): who triggered this callback. The guard has
    already checked CSRF for sessions, so a callback only checks the role: ``who.can("operator")``."""
    return CURRENT.get()


def may_show_page(path: str) -> bool:
    """For the page router (a Dash callback): whether the caller may see the page at ``path``.

    The guard keeps a scoped kiosk token off other pages' URLs, but every page is drawn by
    one callback from the path the browser posts; without this a screen's token could ask it
    for the console or the tablet."""
    who = current_principal()
    return who is None or not who.is_kiosk or kiosk_may_read(who, path)


def reporter_name() -> str | None:
    """For records a callback writes on someone's word (a screen's heartbeat): who, by name
    and how they came in; None where nobody is known (anonymous reading, or no request)."""
    who = current_principal()
    return None if who is None or who.via == "anonymous" else f"{who.name} ({who.via})"
