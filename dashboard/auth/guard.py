"""The guard: one ASGI middleware in front of every route, pages, Dash, websocket and API alike.

Deciding here, before routing, means a route cannot be forgotten: Dash adds its endpoints
itself (layout, dependencies, callbacks, the websocket, a catch-all for pages), and each of
them is covered without being named. What stays public holds no city data:

- ``/login`` and ``POST /api/v1/login``: the way in.
- ``/healthz``: load balancers and supervisors probe it without credentials; it says only
  whether the store answers.
- files under ``/assets/`` and ``/_dash-component-suites/``: CSS, fonts, scripts and the city
  outline, the same for everyone. Only a file's path is public there: any other path under them
  reached Dash's page, with its versions and clientside code, without a login.

``/metrics`` is not public: its counters (open incidents, feed traffic) describe the city. A
scraper reads it with an API token (``Authorization: Bearer``), or it opens with anonymous read.

Writes made with a session cookie must prove they come from our own pages (CSRF token and
Origin, see ``csrf``); a token or anonymous identity cannot be replayed by another site, and
kiosks and anonymous readers may only run Dash callbacks, which read (write callbacks check
the role themselves through ``current_principal``).
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.auth.csrf import HEADER as CSRF_HEADER
from dashboard.auth.csrf import origin_allowed, token_matches
from dashboard.auth.principal import Principal
from dashboard.auth.refusal import address_not_valid_html, not_this_page_html
from dashboard.auth.service import CACHE_S, KIOSK_COOKIE, AuthService, NeedsLookup, Resolved
from dashboard.store.redis_store import is_outage
from dashboard.web_security import refuse_websocket, send_json

PUBLIC_PATHS = frozenset({"/login", "/api/v1/login", "/healthz", "/favicon.ico", "/_favicon.ico"})
#: A file under the assets or Dash's component scripts (``/_dash-component-suites/<package>/<file>``):
#: anything else under those prefixes reaches Dash's catch-all page, which is not public.
PUBLIC_FILE = re.compile(r"^/(?:assets|_dash-component-suites/[\w.-]+)(?:/[\w.@~-]+)+\.\w+$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CALLBACK_PATH = "/_dash-update-component"
SCREEN_PATH = re.compile(r"^/screen/(\d{1,3})/?$")
#: What every page uses, whatever page it is: Dash's endpoints and citywall's push socket.
EVERY_PAGE_PREFIXES = ("/_dash-", "/_citywall/push")
#: WebSocket close codes for "who are you" and "not for you" (4000-4999 are the app's own).
WS_UNAUTHORIZED, WS_FORBIDDEN = 4401, 4403
#: Identity lookups that miss the cache run in this many threads of the guard's own.
LOOKUP_THREADS = 4
#: "Try again later": the store is away and the identity cannot be looked up.
WS_TRY_AGAIN = 1013

#: The identity of the request being served; Dash callbacks read it (``current_principal``).
#: A ContextVar follows the request into Starlette's thread pool and Dash's websocket executor.
CURRENT: ContextVar[Principal | None] = ContextVar("citywall_principal", default=None)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or PUBLIC_FILE.match(path) is not None


def kiosk_may_read(principal: Principal, path: str) -> bool:
    """A scoped kiosk token reads its own pages and the endpoints every page needs: Dash's,
    and the push socket (``layouts.push``), without which a kiosk's screen fell back to the
    poll for good."""
    if principal.scope is None or path.startswith(EVERY_PAGE_PREFIXES):
        return True
    screen = SCREEN_PATH.match(path)
    if principal.scope == "screen":
        return screen is not None and int(screen.group(1)) == principal.screen
    if principal.scope == "wall":
        return screen is not None or path.rstrip("/") == "/wall"
    if principal.scope == "tablet":  # the tablet's one-tap summary is an API download
        return path.rstrip("/") == "/tablet" or path.startswith("/api/v1/summary.")
    return False


def own_page(principal: Principal) -> str:
    """The page a scoped kiosk token is for."""
    if principal.scope == "screen":
        return f"/screen/{principal.screen}"
    return "/tablet" if principal.scope == "tablet" else "/wall"


class AuthMiddleware:
    def __init__(self, app: ASGIApp, auth: AuthService) -> None:
        self.app = app
        self.auth = auth
        self._lookups = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="identity-lookup")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        try:
            resolved = await self._resolve(headers, parse_cookies(headers), query_token(scope))
        except Exception as exc:
            if not is_outage(exc):
                raise
            await _store_away(scope["type"] == "websocket")(scope, receive, send)
            return
        denial = self._deny(scope, headers, resolved)
        if denial is not None:
            await denial(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = resolved.principal
        scope["state"]["session"] = resolved.session
        reset = CURRENT.set(resolved.principal)
        try:
            if resolved.kiosk_cookie and scope["type"] == "http":
                send = self._with_cookie(send, self.auth.kiosk_cookie(resolved.kiosk_cookie, _secure(scope, self.auth)))
            if scope["type"] == "websocket":
                send = self._rechecked(send, scope, headers, resolved)
            await self.app(scope, receive, send)
        finally:
            CURRENT.reset(reset)

    async def _resolve(self, headers: dict[str, str], cookies: dict[str, str], token: str | None) -> Resolved:
        """Who the request is: from memory on the event loop, which answers nearly every
        request, else in a thread of the guard's own. A lookup asks the store, which may hang
        on a dead connection for seconds: on the loop it held up every page, every push and
        /healthz of the worker, and in the loop's shared executor it held up the pictures."""
        try:
            return self.auth.resolve(headers, cookies, token, from_memory=True)
        except NeedsLookup:
            return await asyncio.get_running_loop().run_in_executor(self._lookups, self.auth.resolve, headers, cookies, token)

    def _deny(self, scope: Scope, headers: dict[str, str], resolved: Resolved) -> ASGIApp | None:
        path, who = scope["path"], resolved.principal
        websocket = scope["type"] == "websocket"
        method = "GET" if websocket else scope["method"]
        if who is None:
            if websocket:
                return _ws_close(WS_UNAUTHORIZED)
            if method in ("GET", "HEAD") and _is_page(path):
                if query_token(scope) is not None or KIOSK_COOKIE in parse_cookies(headers):
                    return _html(401, address_not_valid_html(_login_location(scope)))
                return _redirect_to_login(scope)
            return _json(401, "login or token required", {"www-authenticate": "Bearer"})
        if who.is_kiosk and not websocket and method not in SAFE_METHODS and path != CALLBACK_PATH:
            return _json(403, "kiosk tokens only read")  # told first: a scoped one heard "may not read this page"
        if who.is_kiosk and not kiosk_may_read(who, path):
            if websocket:
                return _ws_close(WS_FORBIDDEN)
            if method in ("GET", "HEAD") and _is_page(path):
                return _html(403, not_this_page_html(own_page(who)))
            return _json(403, "this token may not read this page")
        if resolved.session is not None and (websocket or method not in SAFE_METHODS):
            allowed = origin_allowed(headers, self.auth.allowed_origins)
            if not allowed:
                return _ws_close(WS_FORBIDDEN) if websocket else _json(403, "request from a foreign origin")
            if not websocket and not token_matches(headers.get(CSRF_HEADER), resolved.session.csrf):
                return _json(403, "missing or wrong CSRF token (send the login's csrf_token as X-CSRF-Token)")
        if who.via == "anonymous" and not websocket and method not in SAFE_METHODS and path != CALLBACK_PATH:
            return _json(403, "reading is open to everyone; writing needs a login or token")
        return None

    def _rechecked(self, send: Send, scope: Scope, headers: dict[str, str], first: Resolved) -> Send:
        """A websocket is one request that lasts for hours: before it sends anything, at most
        every ``CACHE_S`` seconds, check again that its identity still stands, and close it
        (4401) once the token is revoked, the password changed or the user removed."""
        cookies, token = parse_cookies(headers), query_token(scope)
        state = {"due": time.monotonic() + CACHE_S, "closed": False}

        async def sending(message: Message) -> None:
            if state["closed"]:
                return  # the socket is closed: drop what the app still sends
            if message["type"] == "websocket.send" and time.monotonic() >= state["due"]:
                state["due"] = time.monotonic() + CACHE_S
                try:
                    now = (await self._resolve(headers, cookies, token)).principal
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    now = first.principal  # the store is away: the identity stands until it can be asked
                if now is None or now != first.principal:
                    state["closed"] = True
                    message = {"type": "websocket.close", "code": WS_UNAUTHORIZED, "reason": "identity ended"}
            await send(message)

        return sending

    @staticmethod
    def _with_cookie(send: Send, cookie: str) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]}
            await send(message)

        return sending


# --- small helpers ------------------------------------------------------------------------
def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def parse_cookies(headers: dict[str, str]) -> dict[str, str]:
    raw = headers.get("cookie")
    if not raw or len(raw) > 16_384:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def query_token(scope: Scope) -> str | None:
    query = scope.get("query_string", b"")
    if b"token=" not in query or len(query) > 4_096:
        return None
    values = parse_qs(query.decode("latin-1")).get("token")
    return values[0] if values else None


def _is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/_dash-", "/_reload", "/metrics"))


def _secure(scope: Scope, auth: AuthService) -> bool:
    return auth.config.secure_cookies or scope.get("scheme") in ("https", "wss")


def _json(status: int, detail: str, extra: dict[str, str] | None = None) -> ASGIApp:
    headers = [(k.encode(), v.encode()) for k, v in (extra or {}).items()]

    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, status, {"detail": detail}, headers)

    return respond


def _html(status: int, page: str) -> ASGIApp:
    body = page.encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]

    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    return respond


def _login_location(scope: Scope) -> str:
    """The login, set to come back to the page asked for (without its token)."""
    target = scope["path"]
    query = [(k, v) for k, vs in parse_qs(scope.get("query_string", b"").decode("latin-1")).items() for v in vs if k != "token"]
    if query:
        target += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    return "/login?next=" + quote(target, safe="")


def _redirect_to_login(scope: Scope) -> ASGIApp:
    """A browser asking for a page goes to the login, and comes back to the page after it."""
    location = _login_location(scope)

    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return respond


def _store_away(websocket: bool) -> ASGIApp:
    """The store is away and the caller's identity was never looked up: try again shortly
    (the page's push reconnects by itself)."""
    detail = "the store is unavailable: try again shortly"
    return _ws_close(WS_TRY_AGAIN, 503, detail) if websocket else _json(503, detail, {"retry-after": "2"})


def _ws_close(code: int, status: int | None = None, detail: str | None = None) -> ASGIApp:
    """Refusing the upgrade with a real 401, 403 or 503 and the reason (``refuse_websocket``)."""
    status = status or (401 if code == WS_UNAUTHORIZED else 403)
    reason = detail or ("login or token required" if status == 401 else "forbidden")

    async def respond(scope: Scope, receive: Receive, send: Send) -> None:
        await refuse_websocket(scope, send, status, reason, code=code)

    return respond


def principal_in(scope: Any) -> Principal | None:
    state = scope.get("state") if isinstance(scope, dict) else None
    return state.get("principal") if isinstance(state, dict) else None
