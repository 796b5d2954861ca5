"""The way in: ``POST /api/v1/login``, ``POST /api/v1/logout``, ``GET /api/v1/me`` and the
``/login`` page.

The page is plain HTML on the FastAPI server, not a Dash page: a Dash page needs the Dash
endpoints (layout, callbacks), and those must stay closed to someone who has not logged in.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from dashboard.auth.csrf import origin_allowed
from dashboard.auth.deps import reader, service_of
from dashboard.auth.passwords import MAX_LENGTH
from dashboard.auth.principal import Principal
from dashboard.auth.refusal import both
from dashboard.auth.service import AuthService
from dashboard.auth.sessions import Session
from dashboard.auth.throttle import WINDOW_S


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)


def register(server: FastAPI, auth: AuthService) -> None:
    server.state.citywall_auth = auth
    throttle = auth.throttle

    @server.post("/api/v1/login")
    def login(body: LoginRequest, request: Request) -> JSONResponse:
        """Sets the session cookie; the body carries the CSRF token to send as ``X-CSRF-Token``.
        A login from a foreign origin is refused, so no other site can log a browser in; one
        from an address with too many wrong tries or too many tries in at once, or for which
        no check came free in time, is answered 429 (``throttle``)."""
        service = service_of(request)
        if not origin_allowed({k.lower(): v for k, v in request.headers.items()}, service.allowed_origins):
            raise HTTPException(403, "request from a foreign origin")
        address = request.client.host if request.client is not None else ""
        if throttle.blocked(address, body.username):  # until its window ends: at most WINDOW_S
            raise HTTPException(429, "too many wrong passwords: try again later", headers={"retry-after": f"{WINDOW_S:.0f}"})
        done = None
        if not throttle.begin(address):  # this address's share is in, or no check came free in WAIT_S
            raise HTTPException(429, "too many logins at once: try again in a moment", headers={"retry-after": "1"})
        try:
            done = service.login(body.username, body.password)
        finally:
            throttle.end(address, body.username, succeeded=done is not None)
        if done is None:
            raise HTTPException(401, "wrong user name or password")
        user, cookie, session = done
        response = JSONResponse(
            {
                "user": user.name,
                "role": user.role,
                "csrf_token": session.csrf,
                "expires_in_s": service.config.session_ttl_h * 3_600,
            }
        )
        for header in service.session_cookies(cookie, session, _secure(request, service)):
            response.headers.append("set-cookie", header)
        return response

    @server.post("/api/v1/logout")
    def logout(request: Request) -> JSONResponse:
        """Ends the session and clears the cookies; the guard has checked the CSRF token
        (logout is a write too)."""
        service = service_of(request)
        session = (request.scope.get("state") or {}).get("session")
        if isinstance(session, Session):
            service.end_session(session)
        response = JSONResponse({"logged_out": True})
        for header in service.logout_cookies(_secure(request, service)):
            response.headers.append("set-cookie", header)
        return response

    @server.get("/api/v1/me")
    def me(who: Principal = Depends(reader())) -> dict[str, Any]:
        return {"name": who.name, "role": who.role, "via": who.via, "scope": who.scope, "screen": who.screen}

    @server.get("/login")
    def login_page(next: str = "/wall") -> HTMLResponse:  # noqa: A002 - the query parameter's name
        return HTMLResponse(login_html(safe_next(next)), headers={"cache-control": "no-store"})


def safe_next(target: str) -> str:
    """Only a path on this site: an open redirect would make the login page a phishing aid."""
    try:
        parts = urlsplit(target)
    except ValueError:  # "http://[": no URL at all, and a 500 on the login page, for anyone
        return "/wall"
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/wall"
    return target[:2_048]


def login_html(next_path: str) -> str:
    """The login page with its words filled in from the catalogs (its script's messages too)."""
    page = _PAGE
    for name in ("title", "user", "password", "submit", "wrong", "failed", "silent"):
        page = page.replace("{" + name + "}", both(f"login_{name}"))
    # last, so nothing in the visitor's path is ever taken for a placeholder
    return page.replace("{next}", html.escape(next_path, quote=True))


def _secure(request: Request, service: AuthService) -> bool:
    return service.config.secure_cookies or request.url.scheme == "https"


_PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>citywall – {title}</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap/bootstrap.min.css">
<style>
  body { background: #0b1220; color: #e6edf7; min-height: 100vh; display: flex; align-items: center; justify-content: center; }
  .card { background: #121b2e; border-color: #24324f; color: inherit; width: 22rem; }
  .form-control { background: #0b1220; color: #e6edf7; border-color: #24324f; }
  .form-control:focus { background: #0b1220; color: #e6edf7; }
</style>
</head>
<body>
<main class="card p-4 shadow" data-page="login">
  <h1 class="h4 mb-3">citywall</h1>
  <form id="login" data-next="{next}" data-wrong="{wrong}" data-failed="{failed}" data-silent="{silent}"
        autocomplete="on">
    <div class="mb-3">
      <label class="form-label" for="username">{user}</label>
      <input class="form-control" id="username" name="username" autocomplete="username" maxlength="64" required autofocus>
    </div>
    <div class="mb-3">
      <label class="form-label" for="password">{password}</label>
      <input class="form-control" id="password" name="password" type="password"
             autocomplete="current-password" maxlength="1024" required>
    </div>
    <div id="error" class="alert alert-danger py-2 d-none" role="alert"></div>
    <button class="btn btn-primary w-100" type="submit">{submit}</button>
  </form>
</main>
<script src="/assets/login.js"></script>
</body>
</html>
"""
